//! Index-encoded synthetic fields (docs/mds-llc.md §3): every value says where it belongs
//! (`10000 t + 100 j + i + 1e6 k + 5e6 r`), the compact file is laid out by walking the facet
//! description of §3.1 (not the `off` formula under test), and the bytes are encoded here with
//! `to_be_bytes`/`to_le_bytes`. Reading must put every value where its code says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edp_mds::{ByteOrder, FieldSelector, Llc, MdsFile, Meta, Precision, decode};

/// Value code of tile cell (k, t, j, i) in record r.
fn code(r: usize, k: usize, t: usize, j: usize, i: usize) -> f64 {
    (10_000 * t + 100 * j + i) as f64 + 1e6 * k as f64 + 5e6 * r as f64
}

/// (t, j, i) of compact row `y`, column `x` of LLC(n), from the facet table of §3.1:
/// facets 1-3 are stacks of n x n tiles; facets 4 and 5 are (n x 3n) row-major blocks whose
/// column thirds are the tiles.
fn tile_of_compact(n: usize, y: usize, x: usize) -> (usize, usize, usize) {
    if y < 7 * n {
        (y / n, y % n, x)
    } else {
        let (first_tile, start_row) = if y < 10 * n { (7, 7 * n) } else { (10, 10 * n) };
        let flat = (y - start_row) * n + x; // position inside the facet block
        let (row, col) = (flat / (3 * n), flat % (3 * n));
        (first_tile + col / n, row, col % n)
    }
}

/// Compact-ordered codes for `records x nz` levels.
fn compact_codes(n: usize, nz: usize, records: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(records * nz * 13 * n * n);
    for r in 0..records {
        for k in 0..nz {
            for y in 0..13 * n {
                for x in 0..n {
                    let (t, j, i) = tile_of_compact(n, y, x);
                    v.push(code(r, k, t, j, i));
                }
            }
        }
    }
    v
}

fn encode(values: &[f64], prec: Precision, order: ByteOrder) -> Vec<u8> {
    let mut out = Vec::new();
    for &v in values {
        match (prec, order) {
            (Precision::F32, ByteOrder::Big) => out.extend((v as f32).to_be_bytes()),
            (Precision::F32, ByteOrder::Little) => out.extend((v as f32).to_le_bytes()),
            (Precision::F64, ByteOrder::Big) => out.extend(v.to_be_bytes()),
            (Precision::F64, ByteOrder::Little) => out.extend(v.to_le_bytes()),
        }
    }
    out
}

const CASES: [(Precision, ByteOrder); 4] = [
    (Precision::F32, ByteOrder::Big),
    (Precision::F32, ByteOrder::Little),
    (Precision::F64, ByteOrder::Big),
    (Precision::F64, ByteOrder::Little),
];

fn check_tiles(n: usize, nz: usize, records: usize) {
    for (prec, order) in CASES {
        let mut meta = Meta::new_llc("mem.meta", n, nz, prec, records);
        meta.fields = (0..records).map(|r| format!("FLD{r}")).collect();
        let bytes = encode(&compact_codes(n, nz, records), prec, order);
        for r in 0..records {
            let sel = if r % 2 == 0 {
                FieldSelector::Record(r)
            } else {
                FieldSelector::Name(format!("FLD{r}"))
            };
            let f32s =
                decode::decode_record_tiles::<f32>(&bytes, &meta, &sel, order, "mem").unwrap();
            let f64s =
                decode::decode_record_tiles::<f64>(&bytes, &meta, &sel, order, "mem").unwrap();
            assert_eq!((f32s.n, f32s.nz), (n, nz));
            for k in 0..nz {
                for t in 0..13 {
                    for j in 0..n {
                        for i in 0..n {
                            let want = code(r, k, t, j, i);
                            assert_eq!(
                                f64s.get(k, t, j, i),
                                want,
                                "N={n} {prec:?} {order:?} r={r} ({k},{t},{j},{i})"
                            );
                            assert_eq!(f32s.get(k, t, j, i), want as f32);
                        }
                    }
                }
            }
            // Compact order keeps the file layout; the Llc reorder agrees with the fast path.
            let compact = decode::decode_record::<f64>(&bytes, &meta, &sel, order, "mem").unwrap();
            let start = r * nz * 13 * n * n;
            assert_eq!(
                compact,
                compact_codes(n, nz, records)[start..start + nz * 13 * n * n]
            );
            let llc = Llc::new(n);
            assert_eq!(llc.compact_to_tiles(&compact).unwrap(), f64s.data);
            assert_eq!(llc.tiles_to_compact(&f64s.data).unwrap(), compact);
        }
    }
}

#[test]
fn two_d_fields_land_where_the_formulas_say() {
    for n in [1, 2, 4, 12, 90] {
        check_tiles(n, 1, 1);
    }
}

#[test]
fn three_d_fields_land_where_the_formulas_say() {
    for n in [2, 4, 12] {
        check_tiles(n, 5, 1);
    }
    check_tiles(90, 3, 1);
}

#[test]
fn multi_record_fields_by_index_and_by_name() {
    for n in [2, 4, 12] {
        check_tiles(n, 3, 3);
    }
    check_tiles(90, 2, 2);
}

#[test]
fn decode_all_keeps_every_record_in_file_order() {
    let (n, nz, records) = (4, 2, 3);
    let meta = Meta::new_llc("mem.meta", n, nz, Precision::F64, records);
    let codes = compact_codes(n, nz, records);
    let bytes = encode(&codes, Precision::F64, ByteOrder::Big);
    let all = decode::decode_all::<f64>(&bytes, &meta, ByteOrder::Big, "mem").unwrap();
    assert_eq!(all, codes);
}

#[test]
fn documented_offsets_agree_with_the_facet_walk() {
    // The §3.2 offset formula and the facet description must describe the same layout.
    for n in [2, 3, 4, 12, 90] {
        let llc = Llc::new(n);
        for y in 0..13 * n {
            for x in 0..n {
                let (t, j, i) = tile_of_compact(n, y, x);
                assert_eq!(llc.off(t, j, i), y * n + x, "N={n} compact ({y},{x})");
            }
        }
    }
}

#[test]
fn file_round_trip_through_write_mds_and_mdsfile() {
    let dir = tempfile::tempdir().unwrap();
    let (n, nz) = (12, 4);
    for (prec, order) in CASES {
        let stem = dir
            .path()
            .join(format!("THETA_mon_mean.{prec}.{order:?}.0000000732"));
        let mut meta = Meta::new_llc("THETA.meta", n, nz, prec, 2);
        meta.time_step = Some(732);
        meta.fields = vec!["THETA".into(), "SALT".into()];
        let codes = compact_codes(n, nz, 2);
        edp_mds::write_mds(&stem, &meta, &codes, order).unwrap();
        // The bytes on disk are exactly the independent encoding.
        let on_disk = std::fs::read(format!("{}.data", stem.display())).unwrap();
        assert_eq!(on_disk, encode(&codes, prec, order));

        let halves = ["", ".meta", ".data"]
            .map(|ext| std::path::PathBuf::from(format!("{}{ext}", stem.display())));
        for path in halves {
            let file = MdsFile::open(&path, order).unwrap();
            assert_eq!(file.meta.time_step, Some(732));
            let salt = file.read_tiles::<f64>(&"SALT".into()).unwrap();
            assert_eq!(salt.get(3, 12, 11, 10), code(1, 3, 12, 11, 10));
            let theta = file.read_record::<f64>(&FieldSelector::Record(0)).unwrap();
            assert_eq!(theta, codes[..nz * 13 * n * n]);
            assert_eq!(file.read_all::<f64>().unwrap(), codes);
        }
    }
}

#[test]
fn file_reads_stream_in_chunks_for_both_precisions_and_orders() {
    // LLC90 with 5 levels is read as several parallel chunks (one level each), and the second
    // record starts mid-file; both the in-place (same precision) and the converting path must
    // give the index codes.
    let dir = tempfile::tempdir().unwrap();
    let (n, nz) = (90, 5);
    let codes = compact_codes(n, nz, 2);
    for (prec, order) in CASES {
        let stem = dir.path().join(format!("F.{prec}.{order:?}"));
        let meta = Meta::new_llc("F.meta", n, nz, prec, 2);
        std::fs::write(
            format!("{}.data", stem.display()),
            encode(&codes, prec, order),
        )
        .unwrap();
        std::fs::write(format!("{}.meta", stem.display()), meta.to_meta_text()).unwrap();
        let file = MdsFile::open(&stem, order).unwrap();
        for r in 0..2 {
            let a = file.read_tiles::<f32>(&FieldSelector::Record(r)).unwrap();
            let b = file.read_tiles::<f64>(&FieldSelector::Record(r)).unwrap();
            for k in 0..nz {
                for t in 0..13 {
                    for (j, i) in [(0, 0), (0, 89), (45, 7), (89, 0), (89, 89)] {
                        let want = code(r, k, t, j, i);
                        assert_eq!(
                            b.get(k, t, j, i),
                            want,
                            "{prec:?} {order:?} r={r} ({k},{t},{j},{i})"
                        );
                        assert_eq!(
                            a.get(k, t, j, i),
                            want as f32,
                            "{prec:?} {order:?} r={r} ({k},{t},{j},{i})"
                        );
                    }
                }
            }
            let bytes = std::fs::read(format!("{}.data", stem.display())).unwrap();
            let mem = decode::decode_record_tiles::<f64>(
                &bytes,
                &meta,
                &FieldSelector::Record(r),
                order,
                "mem",
            )
            .unwrap();
            assert_eq!(mem, b);
        }
    }
}

#[test]
fn a_file_that_shrinks_after_open_gives_a_truncation_error() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("SSH");
    let meta = Meta::new_llc("SSH.meta", 90, 3, Precision::F32, 1);
    edp_mds::write_mds(&stem, &meta, &compact_codes(90, 3, 1), ByteOrder::Big).unwrap();
    let file = MdsFile::open(&stem, ByteOrder::Big).unwrap();
    std::fs::write(dir.path().join("SSH.data"), vec![0u8; 1000]).unwrap();
    let err = file
        .read_tiles::<f32>(&FieldSelector::Record(0))
        .unwrap_err();
    assert!(
        err.to_string().starts_with("truncated data file")
            && err.to_string().contains("found 1000"),
        "{err}"
    );
    assert!(file.read_tiles::<f64>(&FieldSelector::Record(0)).is_err());
    assert!(file.read_bytes().is_err());
}

#[test]
fn into_variants_reuse_a_buffer_of_any_previous_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut buf: Vec<f32> = Vec::new();
    for (n, nz) in [(12, 4), (2, 1), (90, 2), (4, 3)] {
        let stem = dir.path().join(format!("F{n}"));
        let meta = Meta::new_llc("F.meta", n, nz, Precision::F32, 1);
        let codes = compact_codes(n, nz, 1);
        edp_mds::write_mds(&stem, &meta, &codes, ByteOrder::Big).unwrap();
        let file = MdsFile::open(&stem, ByteOrder::Big).unwrap();
        assert_eq!(
            file.read_tiles_into(&FieldSelector::Record(0), &mut buf)
                .unwrap(),
            (n, nz)
        );
        assert_eq!(buf.len(), nz * 13 * n * n);
        let field = edp_mds::LlcField {
            n,
            nz,
            data: buf.clone(),
        };
        assert_eq!(
            field.get(nz - 1, 9, n - 1, 0),
            code(0, nz - 1, 9, n - 1, 0) as f32
        );

        let bytes = encode(&codes, Precision::F32, ByteOrder::Big);
        let mut other = vec![7.0f32; 3];
        let shape = decode::decode_record_tiles_into(
            &bytes,
            &meta,
            &FieldSelector::Record(0),
            ByteOrder::Big,
            "mem",
            &mut other,
        )
        .unwrap();
        assert_eq!(shape, (n, nz));
        assert_eq!(other, buf);
    }
}
