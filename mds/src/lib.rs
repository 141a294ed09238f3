//! MITgcm MDS files (`.meta` text + raw `.data`) and the LLC compact layout.
//!
//! Byte order and precision are data: they come from the `.meta` (`dataprec`) and from an
//! explicit [`ByteOrder`] option (big-endian by default, as MITgcm writes), never from
//! assumptions.
