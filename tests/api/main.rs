//! sockweave's integration tests: one binary, one module per area.

mod model;
mod pair;
mod redirect;
mod splits;
mod tls;
mod tungstenite_peer;
mod vectors;
