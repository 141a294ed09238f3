//! Object storage for local folders and `s3://` URLs behind one interface: reads, atomic
//! writes (never a partial object under its final name), conditional creates
//! (`If-None-Match: *`) and listings with sizes and ETags.
//!
//! S3 is reached through the AWS SDK; a local emulator is used through settings only
//! (`AWS_ENDPOINT_URL`, path-style addressing), never through a separate code path.
