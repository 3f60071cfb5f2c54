//! The fake Tari base node serves the same proto subset the runtime's client speaks, read from
//! the workspace's top-level `proto/` (a wire definition, not a parser: the fake shares no code
//! with the client). The client half is generated too, for this crate's own tests.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "../proto/base_node.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["../proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
