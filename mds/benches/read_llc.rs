//! Benchmark: reading a 50-level LLC90 float32 big-endian field into tiles vs reading the
//! file's bytes alone. Run with `cargo bench -p edp-mds --bench read_llc`.
//!
//! Prints the median of several runs of
//! * `bytes`  - `std::fs::read` of the `.data` (the floor: what any reader must pay),
//! * `tiles`  - `MdsFile::open` + `read_tiles::<f32>` (meta parse, size check, read, decode,
//!   byte swap and tile reorder),
//! * `decode` - `decode_record_tiles::<f32>` from bytes already in memory (the S3 path),
//!
//! and the ratio `tiles / bytes` (goal: close to 1). The file is read once beforehand so both
//! timings see the page cache, not the disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_mds::{ByteOrder, FieldSelector, MdsFile, Meta, Precision, decode, write_mds};
use std::time::{Duration, Instant};

const N: usize = 90;
const NZ: usize = 50;
const RUNS: usize = 21;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<R>(mut f: impl FnMut() -> R) -> Duration {
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        std::hint::black_box(f());
        runs.push(start.elapsed());
    }
    median(runs)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stem = dir.path().join("THETA_mon_mean.0000000732");
    let meta = Meta::new_llc("THETA_mon_mean.0000000732.meta", N, NZ, Precision::F32, 1);
    let values: Vec<f32> = (0..meta.n_values())
        .map(|v| (v % 100_003) as f32 * 0.25 - 3.0)
        .collect();
    write_mds(&stem, &meta, &values, ByteOrder::Big).expect("write field");
    let data_path = dir.path().join("THETA_mon_mean.0000000732.data");
    let bytes_len = std::fs::metadata(&data_path).expect("stat").len();

    // Warm the page cache and check the result once.
    let warm = std::fs::read(&data_path).expect("read");
    let field = MdsFile::open(&stem, ByteOrder::Big)
        .unwrap()
        .read_tiles::<f32>(&FieldSelector::Record(0))
        .unwrap();
    let llc = edp_mds::Llc::new(N);
    assert_eq!(
        field.get(49, 12, 89, 89),
        values[49 * llc.level_len() + llc.off(12, 89, 89)]
    );

    if std::env::var_os("TMP_ONLY_TILES").is_some() {
        for _ in 0..300 { std::hint::black_box(MdsFile::open(&stem, ByteOrder::Big).and_then(|f| f.read_tiles::<f32>(&FieldSelector::Record(0))).unwrap()); }
        return;
    }
    let bytes = time(|| std::fs::read(&data_path).expect("read"));
    let tiles = time(|| {
        MdsFile::open(&stem, ByteOrder::Big)
            .and_then(|f| f.read_tiles::<f32>(&FieldSelector::Record(0)))
            .expect("read tiles")
    });
    let streaming = time(|| {
        MdsFile::open(&stem, ByteOrder::Big)
            .and_then(|f| f.read_tiles_streaming::<f32>(&FieldSelector::Record(0)))
            .expect("read tiles")
    });
    let mut reused = Vec::new();
    let into = time(|| {
        MdsFile::open(&stem, ByteOrder::Big)
            .and_then(|f| f.read_tiles_into::<f32>(&FieldSelector::Record(0), &mut reused))
            .expect("read tiles")
    });
    let mut reused_bytes = Vec::new();
    let bytes_into = time(|| {
        use std::io::Read;
        reused_bytes.clear();
        std::fs::File::open(&data_path).and_then(|mut f| f.read_to_end(&mut reused_bytes)).expect("read")
    });
    println!("TMP streaming {:.3} ms  into {:.3} ms  bytes_into {:.3} ms", ms(streaming), ms(into), ms(bytes_into));
    let decode_only = time(|| {
        decode::decode_record_tiles::<f32>(
            &warm,
            &meta,
            &FieldSelector::Record(0),
            ByteOrder::Big,
            "mem",
        )
        .expect("decode")
    });

    let mb = bytes_len as f64 / 1e6;
    println!(
        "read_llc: LLC{N} x {NZ} levels float32 big-endian, {mb:.1} MB, median of {RUNS} runs, {} rayon threads",
        rayon::current_num_threads()
    );
    println!(
        "  bytes  (std::fs::read)          {:8.3} ms  {:6.2} GB/s",
        ms(bytes),
        mb / 1e3 / bytes.as_secs_f64()
    );
    println!(
        "  tiles  (MdsFile::read_tiles)    {:8.3} ms  {:6.2} GB/s",
        ms(tiles),
        mb / 1e3 / tiles.as_secs_f64()
    );
    println!(
        "  decode (in memory -> tiles)     {:8.3} ms  {:6.2} GB/s",
        ms(decode_only),
        mb / 1e3 / decode_only.as_secs_f64()
    );
    println!(
        "  ratio tiles / bytes             {:8.2}",
        tiles.as_secs_f64() / bytes.as_secs_f64()
    );
}
