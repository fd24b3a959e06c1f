//! permessage-deflate (RFC 7692): negotiation here; the codec and the
//! data path follow.

mod params;

pub use params::{
    Agreed, DeflateConfig, MIN_COMPRESS_WINDOW_BITS, NAME, Params, ParamsError, accept_offer,
    check_response, offer,
};
