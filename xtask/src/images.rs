//! `cargo xtask images`: the mini-stack's container images, built here with no registry.
//!
//! The runtime and `pithead-fake` (every fake, the p2pool / xmrig-proxy stand-ins and the socket
//! proxy) are built as static musl binaries (`--profile image`), each copied into a small build
//! context with its `deploy/Dockerfile.*` and built `FROM scratch`. Incremental twice over: cargo
//! rebuilds only what changed, and the engine's layer cache keeps an image whose binary did not
//! change (the report says "unchanged").

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// The musl target the images' binaries are built for.
pub const MUSL: &str = "x86_64-unknown-linux-musl";

/// One image: its tag, the binary it carries, its Dockerfile.
struct Image {
    tag: &'static str,
    package: &'static str,
    binary: &'static str,
    dockerfile: &'static str,
    /// An empty directory owned by the image's user (the runtime's data directory).
    data_dir: bool,
}

const IMAGES: [Image; 2] = [
    Image {
        tag: "pithead/runtime:dev",
        package: "pithead-runtime",
        binary: "pithead-runtime",
        dockerfile: "deploy/Dockerfile.runtime",
        data_dir: true,
    },
    Image {
        tag: "pithead/fake:dev",
        package: "pithead-fakes",
        binary: "pithead-fake",
        dockerfile: "deploy/Dockerfile.fake",
        data_dir: false,
    },
];

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Adds the musl target with rustup when it is missing.
fn ensure_musl_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("cannot run rustup (needed for the musl target of the images)")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == MUSL)
    {
        return Ok(());
    }
    eprintln!("+ rustup target add {MUSL}");
    let status = Command::new("rustup")
        .args(["target", "add", MUSL])
        .status()
        .context("cannot run rustup")?;
    if !status.success() {
        bail!("rustup target add {MUSL} failed ({status})");
    }
    Ok(())
}

/// The musl C compiler wrapper the images' C dependencies build with (`.cargo/config.toml`):
/// installed from Debian's musl-tools when missing and we may (root with apt).
fn ensure_musl_gcc() -> anyhow::Result<()> {
    let present = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let wanted =
        std::env::var("CC_x86_64_unknown_linux_musl").unwrap_or_else(|_| "musl-gcc".into());
    if present(&wanted) {
        return Ok(());
    }
    eprintln!("+ apt-get install musl-tools (the images' C dependencies compile with musl-gcc)");
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = apt(&["update", "-qq"])
        && apt(&[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "musl-tools",
        ]);
    if !installed || !present(&wanted) {
        bail!(
            "{wanted} is missing: install Debian's musl-tools (apt-get install musl-tools), or \
             point CC_x86_64_unknown_linux_musl at a musl C compiler"
        );
    }
    Ok(())
}

fn docker(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .context("cannot run the docker CLI (Debian: apt-get install docker.io)")?;
    if !out.status.success() {
        bail!(
            "docker {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn image_id(tag: &str) -> Option<String> {
    docker(&["image", "inspect", "--format", "{{.Id}}", tag]).ok()
}

/// The static `pithead` CLI that [`build`] leaves beside the images' binaries.
pub fn static_pithead() -> PathBuf {
    target_dir(&workspace_root())
        .join(MUSL)
        .join("image")
        .join("pithead")
}

/// Builds every image; prints each one's size and whether it changed.
pub fn build() -> anyhow::Result<()> {
    let root = workspace_root();
    ensure_musl_target()?;
    ensure_musl_gcc()?;
    docker(&["version", "--format", "{{.Server.Version}}"])
        .context("no docker engine answers: start dockerd first")?;
    let mut args = vec!["build", "--profile", "image", "--target", MUSL];
    for image in &IMAGES {
        args.extend(["-p", image.package, "--bin", image.binary]);
    }
    // The operator's static `pithead` CLI, from the same build (one feature resolution, so the
    // runtime crate compiles once): `live-loopback` copies it to its box.
    args.extend(["--bin", "pithead"]);
    crate::cargo(&args)?;
    let bin_dir = target_dir(&root).join(MUSL).join("image");
    let contexts = target_dir(&root).join("images");
    for image in &IMAGES {
        let context = contexts.join(image.binary);
        if context.exists() {
            std::fs::remove_dir_all(&context)
                .with_context(|| format!("cannot clear {}", context.display()))?;
        }
        std::fs::create_dir_all(&context)
            .with_context(|| format!("cannot create {}", context.display()))?;
        let binary = bin_dir.join(image.binary);
        std::fs::copy(&binary, context.join(image.binary))
            .with_context(|| format!("cannot copy {}", binary.display()))?;
        if image.data_dir {
            let data = context.join("data");
            std::fs::create_dir_all(&data)?;
            std::fs::write(data.join(".keep"), b"")?;
        }
        let before = image_id(image.tag);
        let dockerfile = root.join(image.dockerfile);
        let context_arg = context.display().to_string();
        let dockerfile_arg = dockerfile.display().to_string();
        eprintln!(
            "+ docker build -t {} -f {} {}",
            image.tag, image.dockerfile, context_arg
        );
        docker(&[
            "build",
            "--quiet",
            "--label",
            "pithead.image=mini-stack",
            "-t",
            image.tag,
            "-f",
            &dockerfile_arg,
            &context_arg,
        ])?;
        let after = image_id(image.tag);
        let size: u64 = docker(&["image", "inspect", "--format", "{{.Size}}", image.tag])?
            .parse()
            .unwrap_or(0);
        let change = if before.is_some() && before == after {
            "unchanged"
        } else {
            "built"
        };
        println!(
            "{:<22} {:>6.1} MB  {change}",
            image.tag,
            size as f64 / 1_000_000.0
        );
    }
    Ok(())
}
