//! Writes a throwaway CA and a localhost certificate for the interop and
//! CLI scripts: `cargo run -p sockweave-tests --example gen_certs -- DIR`.

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/certs".into());
    let paths = sockweave_tests::certs::TestCerts::localhost().write_to(dir.as_ref())?;
    for path in paths {
        println!("{}", path.display());
    }
    Ok(())
}
