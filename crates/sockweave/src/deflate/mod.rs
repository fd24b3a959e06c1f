//! permessage-deflate (RFC 7692): negotiation (always), and the codec
//! (feature `deflate`). The data path in `Connection` follows.

#[cfg(feature = "deflate")]
mod codec;
mod params;

#[cfg(feature = "deflate")]
pub use codec::{Deflater, InflateError, Inflater, Level};

pub use params::{
    Agreed, DeflateConfig, MIN_COMPRESS_WINDOW_BITS, NAME, Params, ParamsError, accept_offer,
    check_response, offer,
};
