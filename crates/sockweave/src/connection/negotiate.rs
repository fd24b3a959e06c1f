//! Which extension a connection runs, decided by the opening handshake:
//! the client's offer, the server's choice, the client's check of it.
//! Without the `deflate` feature nothing is offered or run.

use crate::config::Config;
use crate::extension::Extension;
use crate::handshake::{Accept, ClientRequest, HandshakeError, Request};
use alloc::borrow::Cow;
use alloc::boxed::Box;

#[cfg(feature = "deflate")]
use crate::{
    Role,
    deflate::{self, DeflateConfig, NAME, ParamsError, extension::PerMessageDeflate},
};
#[cfg(feature = "deflate")]
use alloc::string::String;

/// The request with our permessage-deflate offer added, when configured
/// and not already offered by the caller.
pub(super) fn with_offer<'a>(
    request: &'a ClientRequest,
    config: &Config,
) -> Cow<'a, ClientRequest> {
    #[cfg(feature = "deflate")]
    if let Some(deflate) = &config.deflate {
        if !request.extensions.iter().any(|e| is_deflate(e)) {
            let mut request = request.clone();
            request.extensions.push(deflate::offer(deflate));
            return Cow::Owned(request);
        }
    }
    let _ = config;
    Cow::Borrowed(request)
}

/// Server side: fills `accept.extensions` from the offers, unless the
/// application already chose; returns the extension to run, which follows
/// the response actually sent.
pub(super) fn accept(
    request: &Request,
    accept: &mut Accept,
    config: &Config,
) -> Option<Box<dyn Extension>> {
    #[cfg(feature = "deflate")]
    {
        let ours = config.deflate.unwrap_or_default();
        let Some(chosen) = &accept.extensions else {
            config.deflate?;
            let offers = request.extensions.iter().map(String::as_str);
            let (element, agreed) = deflate::accept_offer(offers, &ours)?;
            accept.extensions = Some(element);
            return Some(Box::new(PerMessageDeflate::new(
                Role::Server,
                &agreed,
                &ours,
            )));
        };
        // The application wrote the response: run what it says.
        written(chosen, config)
    }
    #[cfg(not(feature = "deflate"))]
    {
        let _ = (request, accept, config);
        None
    }
}

/// Server side: the extension a response written elsewhere agreed (by the
/// application, or by an HTTP server that did the handshake).
pub(super) fn written(response: &str, config: &Config) -> Option<Box<dyn Extension>> {
    #[cfg(feature = "deflate")]
    {
        let ours = config.deflate.unwrap_or_default();
        let element = response.split(',').map(str::trim).find(|e| is_deflate(e))?;
        let agreed = deflate::check_response(element, &DeflateConfig::default()).ok()?;
        Some(Box::new(PerMessageDeflate::new(
            Role::Server,
            &agreed,
            &ours,
        )))
    }
    #[cfg(not(feature = "deflate"))]
    {
        let _ = (response, config);
        None
    }
}

/// Client side: checks the extensions the server selected (already known
/// to be ones we offered) and returns the one to run.
pub(super) fn check(
    selected: Option<&str>,
    config: &Config,
) -> Result<Option<Box<dyn Extension>>, HandshakeError> {
    #[cfg(feature = "deflate")]
    {
        let mut found = None;
        for element in selected
            .into_iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
        {
            if is_deflate(element) {
                if found.is_some() {
                    return Err(HandshakeError::InvalidExtension(ParamsError::Duplicate(
                        NAME.into(),
                    )));
                }
                found = Some(element);
            }
        }
        let Some(element) = found else {
            return Ok(None);
        };
        let ours = config.deflate.unwrap_or_default();
        let agreed =
            deflate::check_response(element, &ours).map_err(HandshakeError::InvalidExtension)?;
        Ok(Some(Box::new(PerMessageDeflate::new(
            Role::Client,
            &agreed,
            &ours,
        ))))
    }
    #[cfg(not(feature = "deflate"))]
    {
        let _ = (selected, config);
        Ok(None)
    }
}

#[cfg(feature = "deflate")]
fn is_deflate(element: &str) -> bool {
    element
        .split(';')
        .next()
        .is_some_and(|name| name.trim().eq_ignore_ascii_case(NAME))
}
