//! permessage-deflate (RFC 7692): negotiation (always), and the codec
//! (feature `deflate`), which `Connection` runs once it is negotiated.

#[cfg(feature = "deflate")]
mod codec;
#[cfg(feature = "deflate")]
pub(crate) mod extension;
mod group;
mod params;

#[cfg(feature = "deflate")]
pub use codec::{Deflater, InflateError, Inflater};

pub use group::DeflateGroup;
pub use params::{
    Agreed, Compression, DeflateConfig, MIN_COMPRESS_WINDOW_BITS, NAME, Params, ParamsError,
    accept_offer, check_response, offer,
};
