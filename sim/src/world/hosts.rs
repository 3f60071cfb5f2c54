//! Which turmoil host plays which role, from the runtime's configured URLs.

use std::collections::BTreeMap;

use pithead_runtime::config::Config;
use pithead_runtime::io::Target;

use super::{AUX, DOCKER, MONEROD, RUNTIME, STACK, TARI};
use crate::links::Links;
use crate::net::Routes;

/// The name (and port) the runtime dials for each role.
#[derive(Debug, Clone)]
pub(super) struct Hosts {
    pub(super) monerod: (String, u16),
    pub(super) tari: Option<(String, u16)>,
    pub(super) docker: (String, u16),
}

impl Hosts {
    /// The hosts the runtime's configuration points at (the defaults name the roles).
    pub(super) fn from_config(config: &Config) -> Self {
        Self {
            monerod: host_port(config.monero_rpc_url.target()),
            tari: config
                .tari_grpc_address
                .as_ref()
                .map(|a| (a.host().to_owned(), a.port())),
            docker: host_port(config.docker_control_url.target()),
        }
    }

    /// The host of a role name (a host name passes through).
    pub(super) fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        match name {
            MONEROD => &self.monerod.0,
            TARI => self.tari.as_ref().map_or(TARI, |t| t.0.as_str()),
            DOCKER => &self.docker.0,
            other => other,
        }
    }

    /// The role a dialled name plays (`None`: not a server of this world).
    pub(super) fn role_of(&self, host: &str) -> Option<&'static str> {
        if host == self.monerod.0 {
            Some(MONEROD)
        } else if self.tari.as_ref().is_some_and(|t| t.0 == host) {
            Some(TARI)
        } else if host == self.docker.0 {
            Some(DOCKER)
        } else if host == AUX {
            Some(AUX)
        } else {
            None
        }
    }

    /// Where the runtime's dialled names lead: the `stack` host, across each role's link.
    pub(super) fn runtime_routes(&self, links: &Links) -> Routes {
        let mut names = BTreeMap::new();
        names.insert(self.monerod.0.clone(), (STACK.to_owned(), MONEROD));
        if let Some((host, _)) = &self.tari {
            names.insert(host.clone(), (STACK.to_owned(), TARI));
        }
        names.insert(self.docker.0.clone(), (STACK.to_owned(), DOCKER));
        names.insert(AUX.to_owned(), (STACK.to_owned(), AUX));
        Routes::new(names, links.clone())
    }

    /// Where the prober's dial of the runtime leads: across the `aux` link.
    pub(super) fn prober_routes(links: &Links) -> Routes {
        let names = [(RUNTIME.to_owned(), (RUNTIME.to_owned(), AUX))]
            .into_iter()
            .collect();
        Routes::new(names, links.clone())
    }
}

fn host_port(target: &Target) -> (String, u16) {
    (target.host().to_owned(), target.port())
}
