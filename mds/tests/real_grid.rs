//! Checks on the real LLC90 grid files (`../shared/data/llc90-grid`): the test vectors of
//! docs/mds-llc.md §3.2 and an exact compact -> tiles -> compact round trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The test-vector tables quote the documented 5-decimal values (e.g. -0.70711).
#![allow(clippy::approx_constant)]

use edp_mds::{ByteOrder, FieldSelector, Llc, MdsFile, Precision};

/// (t, j, i), off, XC, YC, CS, SN.
type Row = ((usize, usize, usize), usize, f64, f64, f64, f64);

#[test]
fn test_vectors_of_section_3_2() {
    let Some(dir) = edp_testkit::llc90_grid_dir() else {
        return;
    };
    let read = |name: &str| {
        let f = MdsFile::open(dir.join(name), ByteOrder::Big).unwrap();
        assert_eq!(f.meta.precision, Precision::F64);
        f.read_tiles::<f64>(&FieldSelector::Record(0)).unwrap()
    };
    let (xc, yc, cs, sn) = (read("XC"), read("YC"), read("AngleCS"), read("AngleSN"));
    let table: [Row; 8] = [
        ((0, 0, 0), 0, -111.60647, -88.24259, 0.06158, -0.99810),
        ((2, 3, 5), 16475, -32.50000, 13.39623, 1.00000, 0.00000),
        ((3, 89, 89), 32399, 141.50000, -57.27141, 1.00000, 0.00000),
        ((6, 45, 45), 52695, -128.00000, 89.73940, -0.70711, -0.70711),
        ((7, 0, 0), 56700, 142.16208, 67.47211, 0.33442, -0.94242),
        ((8, 10, 20), 59510, 152.50000, -2.41583, 0.00000, -1.00000),
        ((10, 0, 0), 81000, -127.83792, 67.47211, 0.33442, -0.94242),
        (
            (12, 89, 89),
            105299,
            -111.86579,
            -88.10267,
            -0.99836,
            -0.05718,
        ),
    ];
    let llc = Llc::new(90);
    let raw_xc = MdsFile::open(dir.join("XC"), ByteOrder::Big)
        .unwrap()
        .read_record::<f64>(&FieldSelector::Record(0))
        .unwrap();
    for ((t, j, i), off, x, y, c, s) in table {
        assert_eq!(llc.off(t, j, i), off);
        assert_eq!(raw_xc[off], xc.get(0, t, j, i));
        let close = |a: f64, b: f64| (a - b).abs() <= 5.1e-6;
        assert!(
            close(xc.get(0, t, j, i), x),
            "XC{:?} = {}",
            (t, j, i),
            xc.get(0, t, j, i)
        );
        assert!(
            close(yc.get(0, t, j, i), y),
            "YC{:?} = {}",
            (t, j, i),
            yc.get(0, t, j, i)
        );
        assert!(
            close(cs.get(0, t, j, i), c),
            "CS{:?} = {}",
            (t, j, i),
            cs.get(0, t, j, i)
        );
        assert!(
            close(sn.get(0, t, j, i), s),
            "SN{:?} = {}",
            (t, j, i),
            sn.get(0, t, j, i)
        );
    }
}

#[test]
fn compact_tiles_compact_round_trip_is_exact() {
    let Some(dir) = edp_testkit::llc90_grid_dir() else {
        return;
    };
    for name in ["XC", "YG", "Depth"] {
        let f = MdsFile::open(dir.join(name), ByteOrder::Big).unwrap();
        let compact = f.read_record::<f64>(&FieldSelector::Record(0)).unwrap();
        let llc = Llc::new(90);
        let tiles = llc.compact_to_tiles(&compact).unwrap();
        assert_eq!(
            tiles,
            f.read_tiles::<f64>(&FieldSelector::Record(0)).unwrap().data
        );
        let back = llc.tiles_to_compact(&tiles).unwrap();
        assert!(
            back.iter()
                .zip(&compact)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}"
        );
        // And back to the very same bytes.
        let bytes = edp_mds::encode_values(&back, Precision::F64, ByteOrder::Big);
        assert_eq!(bytes, f.read_bytes().unwrap(), "{name}");
    }
}

#[test]
fn basins_meta_with_trailing_comma_reads_as_float32() {
    let Some(dir) = edp_testkit::llc90_grid_dir() else {
        return;
    };
    let f = MdsFile::open(dir.join("basins.data"), ByteOrder::Big).unwrap();
    assert_eq!(f.meta.precision, Precision::F32);
    let basins = f.read_tiles::<f32>(&FieldSelector::Record(0)).unwrap();
    // README: integer basin codes 0..=20, 44 654 land cells.
    assert!(
        basins
            .data
            .iter()
            .all(|v| v.fract() == 0.0 && (0.0..=20.0).contains(v))
    );
    assert_eq!(basins.data.iter().filter(|v| **v == 0.0).count(), 44_654);
    // Read as little-endian, no wet cell keeps a basin code (1.0f32 becomes 4.6e-41, ...).
    let wrong = MdsFile::open(dir.join("basins"), ByteOrder::Little)
        .unwrap()
        .read_tiles::<f32>(&FieldSelector::Record(0))
        .unwrap();
    let codes = |v: &f32| v.fract() == 0.0 && (1.0..=20.0).contains(v);
    assert_eq!(wrong.data.iter().filter(|v| codes(v)).count(), 0);
}
