//! Benchmark: reading a 50-level LLC90 float32 big-endian field into tiles vs reading the
//! file's bytes alone. Run with `cargo bench -p edp-mds --bench read_llc`.
//!
//! Prints the median and the minimum of several runs of
//! * `bytes`       - `std::fs::read` of the `.data` (the floor: what any reader must pay),
//! * `tiles`       - `MdsFile::open` + `read_tiles::<f32>` (meta parse, size check, read,
//!   decode, byte swap and tile reorder into a new vector),
//! * `tiles_into`  - the same into a reused buffer (`read_tiles_into`; no zero-fill or page
//!   faults of a fresh 21 MB allocation),
//! * `decode`      - `decode_record_tiles::<f32>` from bytes already in memory (the S3 path),
//! * `decode_into` - the same into a reused buffer,
//!
//! and the ratios to `bytes` (goal: close to 1). The file is read once beforehand so every
//! timing sees the page cache, not the disk. The minimum is the better estimate on a shared,
//! busy machine; the median shows the typical cost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_mds::{ByteOrder, FieldSelector, Llc, MdsFile, Meta, Precision, decode, write_mds};
use std::time::{Duration, Instant};

const N: usize = 90;
const NZ: usize = 50;
const RUNS: usize = 31;

/// (median, minimum) of `RUNS` timed calls.
fn time<R>(mut f: impl FnMut() -> R) -> (Duration, Duration) {
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        std::hint::black_box(f());
        runs.push(start.elapsed());
    }
    runs.sort();
    (runs[runs.len() / 2], runs[0])
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stem = dir.path().join("THETA_mon_mean.0000000732");
    let data_path = dir.path().join("THETA_mon_mean.0000000732.data");
    let meta = Meta::new_llc("THETA_mon_mean.0000000732.meta", N, NZ, Precision::F32, 1);
    let values: Vec<f32> = (0..meta.n_values())
        .map(|v| (v % 100_003) as f32 * 0.25 - 3.0)
        .collect();
    write_mds(&stem, &meta, &values, ByteOrder::Big).expect("write field");
    let mb = std::fs::metadata(&data_path).expect("stat").len() as f64 / 1e6;
    let record = FieldSelector::Record(0);

    // Warm the page cache and check the result once.
    let warm = std::fs::read(&data_path).expect("read");
    let field = MdsFile::open(&stem, ByteOrder::Big)
        .unwrap()
        .read_tiles::<f32>(&record)
        .unwrap();
    let llc = Llc::new(N);
    assert_eq!(
        field.get(49, 12, 89, 89),
        values[49 * llc.level_len() + llc.off(12, 89, 89)]
    );
    assert_eq!(
        field.get(7, 8, 3, 60),
        values[7 * llc.level_len() + llc.off(8, 3, 60)]
    );

    let bytes = time(|| std::fs::read(&data_path).expect("read"));
    let tiles = time(|| {
        MdsFile::open(&stem, ByteOrder::Big)
            .and_then(|f| f.read_tiles::<f32>(&record))
            .expect("read tiles")
    });
    let mut buffer = Vec::new();
    let tiles_into = time(|| {
        MdsFile::open(&stem, ByteOrder::Big)
            .and_then(|f| f.read_tiles_into::<f32>(&record, &mut buffer))
            .expect("read tiles")
    });
    let decode = time(|| {
        decode::decode_record_tiles::<f32>(&warm, &meta, &record, ByteOrder::Big, "mem")
            .expect("decode")
    });
    let decode_into = time(|| {
        decode::decode_record_tiles_into::<f32>(
            &warm,
            &meta,
            &record,
            ByteOrder::Big,
            "mem",
            &mut buffer,
        )
        .expect("decode")
    });

    println!(
        "read_llc: LLC{N} x {NZ} levels float32 big-endian, {mb:.1} MB, {RUNS} runs, {} rayon threads",
        rayon::current_num_threads()
    );
    println!(
        "  {:<34} {:>10} {:>10} {:>12}",
        "", "median ms", "min ms", "GB/s (min)"
    );
    let row = |name: &str, (median, min): (Duration, Duration)| {
        println!(
            "  {name:<34} {:>10.3} {:>10.3} {:>12.2}",
            median.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            mb / 1e3 / min.as_secs_f64()
        );
    };
    row("bytes       (std::fs::read)", bytes);
    row("tiles       (read_tiles)", tiles);
    row("tiles_into  (read_tiles_into)", tiles_into);
    row("decode      (in memory -> tiles)", decode);
    row("decode_into (in memory, reused)", decode_into);
    let ratio = |a: (Duration, Duration)| {
        (
            a.0.as_secs_f64() / bytes.0.as_secs_f64(),
            a.1.as_secs_f64() / bytes.1.as_secs_f64(),
        )
    };
    for (name, t) in [("tiles", tiles), ("tiles_into", tiles_into)] {
        let (median, min) = ratio(t);
        println!("  ratio {name:<11} / bytes           median {median:.2}   min {min:.2}");
    }
}
