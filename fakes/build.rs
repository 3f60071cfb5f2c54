//! The fake Tari base node serves the same proto subset the runtime's client speaks; the client
//! half is generated too, for this crate's own tests.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "../runtime/proto/base_node.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["../runtime/proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
