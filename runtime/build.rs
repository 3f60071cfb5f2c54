//! Compiles the Tari base node proto subset with protox (pure Rust), so no `protoc` is needed.
//!
//! The wire definition lives in the workspace's top-level `proto/`, which the runtime (client
//! half) and the fakes (server half) both read; neither reaches into the other's tree.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "../proto/base_node.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["../proto"])?;
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(descriptors)?;
    Ok(())
}
