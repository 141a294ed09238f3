//! Benchmark program (not a timed test): LLC90 -> 0.5 deg weights for all 50 levels, built
//! on one thread and on all cores, the weights file round trip, and applying the weights to
//! a 50-level field. Prints figures; never fails on time.
//!
//! Run: `cargo bench -p edp-regrid --bench weights` (needs the shared LLC90 grid).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_regrid::{LatLonSpec, SourceGrid, VectorLocation, VectorRotation, Weights};
use std::time::{Duration, Instant};

/// Best of `runs` timings of `f` (the minimum is the least noisy figure on a shared machine).
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("runs >= 1"))
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let Some(dir) = edp_testkit::llc90_grid_dir() else {
        eprintln!("no shared LLC90 grid: nothing to measure");
        return;
    };
    let (load, grid) = best_of(1, || edp_grid::Grid::from_mds_dir(&dir).unwrap());
    let source = SourceGrid::from_grid(&grid).unwrap();
    let spec = LatLonSpec::v4r4();
    let cores = rayon::current_num_threads();
    println!(
        "edp-regrid weights benchmark: LLC{} ({} sources, {} levels) -> 0.5 deg (259200 targets)",
        grid.n,
        source.len(),
        source.n_levels()
    );
    println!(
        "  grid load (edp-grid, MDS dir)        {:8.3} s",
        secs(load)
    );

    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    // Every level derived, as a 3-D product needs them (they are derived on first use).
    let all_levels = || {
        let weights = Weights::build(&source, &spec).unwrap();
        let entries: usize = weights.levels().map(|l| l.n_entries()).sum();
        (weights, entries)
    };
    let (t1, (weights, entries)) = one.install(|| best_of(3, all_levels));
    let (tn, _) = best_of(3, all_levels);
    println!("  build, 50 levels, 1 thread           {:8.3} s", secs(t1));
    println!(
        "  build, 50 levels, {cores} threads          {:8.3} s   (speed-up {:.2}x)",
        secs(tn),
        secs(t1) / secs(tn)
    );
    let (tnb, _) = one.install(|| best_of(3, || Weights::build(&source, &spec).unwrap()));
    println!("  neighbourhood only, 1 thread         {:8.3} s", secs(tnb));
    let (t2d, _) = one.install(|| {
        best_of(3, || {
            let weights = Weights::build(&source, &spec).unwrap();
            weights.level(0).unwrap().n_entries()
        })
    });
    println!("  build, level 0 only, 1 thread        {:8.3} s", secs(t2d));
    println!("  non-zero weights, all levels         {entries:>10}");

    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("weights.nc");
    let (tw, ()) = best_of(1, || weights.write(&path).unwrap());
    let size = std::fs::metadata(&path).unwrap().len();
    let (tr, back) = best_of(3, || Weights::read(&path).unwrap());
    assert!(back == weights);
    println!(
        "  write weights file                   {:8.3} s   ({:.2} MB)",
        secs(tw),
        size as f64 / 1e6
    );
    println!("  read weights file (+ level 0)        {:8.3} s", secs(tr));
    let (tr_all, _) = best_of(3, || {
        let back = Weights::read(&path).unwrap();
        back.levels().map(|l| l.n_entries()).sum::<usize>()
    });
    println!(
        "  read weights file + all 50 levels    {:8.3} s",
        secs(tr_all)
    );

    // A 50-level field with a value everywhere (land values are ignored by the weights).
    let field: Vec<f32> = (0..50 * source.len())
        .map(|i| ((i % 9973) as f32).sin())
        .collect();
    let (a1, out) = one.install(|| best_of(5, || weights.apply_3d(&field).unwrap()));
    let (an, _) = best_of(5, || weights.apply_3d(&field).unwrap());
    let (l1, _) = one.install(|| {
        best_of(20, || {
            weights.apply_level(0, &field[..source.len()]).unwrap()
        })
    });
    println!(
        "  apply 3-D field (50 levels), 1 thread {:7.4} s   ({} values out)",
        secs(a1),
        out.len()
    );
    println!(
        "  apply 3-D field (50 levels), {cores} threads {:6.4} s",
        secs(an)
    );
    println!("  apply one level, 1 thread            {:8.5} s", secs(l1));

    let rot = VectorRotation::from_grid(&grid).unwrap();
    let (v1, _) = one.install(|| {
        best_of(5, || {
            rot.east_north_3d(&field, &field, VectorLocation::Faces)
                .unwrap()
        })
    });
    println!("  vectors to E/N, 50 levels, 1 thread  {:8.4} s", secs(v1));
}
