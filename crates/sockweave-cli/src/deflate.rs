//! `--deflate [PRESET]`, shared by `serve` and `connect`.

use sockweave::deflate::DeflateConfig;

/// The permessage-deflate presets (docs/deflate.md gives their costs).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Preset {
    /// 32 KiB windows kept between messages both ways: best ratio.
    Default,
    /// 4 KiB windows, our compressor freed between messages.
    LowMemory,
    /// Nothing kept between messages either way: least memory.
    NoContext,
}

impl Preset {
    pub(crate) fn config(self) -> DeflateConfig {
        match self {
            Self::Default => DeflateConfig::default(),
            Self::LowMemory => DeflateConfig::low_memory(),
            Self::NoContext => DeflateConfig::no_context(),
        }
    }
}
