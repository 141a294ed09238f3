//! Quicklook images of one 2-D field: native LLC tiles laid out as the model's faces
//! (north up, faces side by side in longitude order, the Arctic cap on top), lat-lon fields
//! as a map; viridis colours between the 2nd and 98th percentiles, land (fill) in grey, and a
//! labelled colour bar underneath.

use crate::png::{Image, Rgb, text_width, viridis};

/// How the values of a field are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridLayout {
    /// 13 tiles of `n` x `n` (`[tile][j][i]`).
    Llc {
        /// Tile size.
        n: usize,
    },
    /// `[lat][lon]`, latitude increasing.
    LatLon {
        /// Latitudes.
        ny: usize,
        /// Longitudes.
        nx: usize,
    },
}

impl GridLayout {
    /// Values the layout holds.
    pub fn len(self) -> usize {
        match self {
            GridLayout::Llc { n } => 13 * n * n,
            GridLayout::LatLon { ny, nx } => ny * nx,
        }
    }

    /// True when the layout holds no value.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Grey of land and fill.
pub const LAND: Rgb = [150, 150, 150];
const BACKGROUND: Rgb = [255, 255, 255];
const INK: Rgb = [20, 20, 20];

/// The colour range used for an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourRange {
    /// Value at the dark end.
    pub low: f64,
    /// Value at the bright end.
    pub high: f64,
}

/// Renders `values` (NaN = land or fill) of `layout`. Fails when the lengths disagree.
pub fn render(values: &[f32], layout: GridLayout) -> Result<(Image, Option<ColourRange>), String> {
    if values.len() != layout.len() {
        return Err(format!(
            "expected {} values for {layout:?}, found {}",
            layout.len(),
            values.len()
        ));
    }
    let range = colour_range(values);
    let colour = |v: f32| -> Rgb {
        match range {
            Some(r) if v.is_finite() => {
                let span = (r.high - r.low).max(f64::MIN_POSITIVE);
                viridis((f64::from(v) - r.low) / span)
            }
            _ => LAND,
        }
    };
    let (map_width, map_height, scale) = match layout {
        GridLayout::Llc { n } => {
            let scale = (360 / (4 * n).max(1)).max(1);
            (4 * n * scale, 4 * n * scale, scale)
        }
        GridLayout::LatLon { ny, nx } => {
            let scale = (720 / nx.max(1)).max(1);
            (nx * scale, ny * scale, scale)
        }
    };
    let bar_height = 16;
    let label_scale = 2;
    let margin = 10;
    let width = map_width.max(300) + 2 * margin;
    let height = margin + map_height + margin + bar_height + 6 + 7 * label_scale + margin;
    let mut image = Image::new(width, height, BACKGROUND);
    let mut put = |x: usize, y: usize, v: f32| {
        image.fill_rect(
            margin + x * scale,
            margin + y * scale,
            scale,
            scale,
            colour(v),
        );
    };
    match layout {
        GridLayout::Llc { n } => {
            for tile in 0..13 {
                let (col, row, transposed) = tile_block(tile);
                for j in 0..n {
                    for i in 0..n {
                        let v = values[(tile * n + j) * n + i];
                        let (x, y) = if transposed { (j, i) } else { (i, n - 1 - j) };
                        put(col * n + x, row * n + y, v);
                    }
                }
            }
        }
        GridLayout::LatLon { ny, nx } => {
            for lat in 0..ny {
                for lon in 0..nx {
                    put(lon, ny - 1 - lat, values[lat * nx + lon]);
                }
            }
        }
    }
    if let Some(r) = range {
        draw_colour_bar(
            &mut image,
            margin,
            margin + map_height + margin,
            bar_height,
            label_scale,
            r,
        );
    }
    Ok((image, range))
}

/// Block column, block row and orientation of a tile in the 4 x 4 face layout. Tiles 0-5
/// (faces 1-2) and 6 (the Arctic cap) have `j` pointing north; tiles 7-12 (faces 4-5) have
/// `j` pointing east and `i` pointing south, so they are drawn transposed.
fn tile_block(tile: usize) -> (usize, usize, bool) {
    match tile {
        0..=2 => (0, 3 - tile, false),
        3..=5 => (1, 3 - (tile - 3), false),
        6 => (2, 0, false),
        7..=9 => (2, 1 + (tile - 7), true),
        _ => (3, 1 + (tile - 10), true),
    }
}

/// 2nd and 98th percentiles of the finite values (`None` when there are none).
fn colour_range(values: &[f32]) -> Option<ColourRange> {
    let mut finite: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f32::total_cmp);
    let at = |q: f64| f64::from(finite[((finite.len() - 1) as f64 * q).round() as usize]);
    let (low, high) = (at(0.02), at(0.98));
    Some(if high > low {
        ColourRange { low, high }
    } else {
        ColourRange {
            low: low - 0.5,
            high: high + 0.5,
        }
    })
}

fn draw_colour_bar(
    image: &mut Image,
    x0: usize,
    y0: usize,
    height: usize,
    scale: usize,
    r: ColourRange,
) {
    let width = image.width - 2 * x0;
    for x in 0..width {
        let t = x as f64 / (width.max(2) - 1) as f64;
        image.fill_rect(x0 + x, y0, 1, height, viridis(t));
    }
    let label_y = y0 + height + 6;
    let labels = [(r.low, 0.0), ((r.low + r.high) / 2.0, 0.5), (r.high, 1.0)];
    for (value, at) in labels {
        let text = label(value);
        let w = text_width(&text, scale);
        let centre = x0 + (at * (width - 1) as f64) as usize;
        let x = centre
            .saturating_sub(w / 2)
            .clamp(x0, x0 + width - w.min(width));
        image.fill_rect(centre, y0 + height, 1, 4, INK);
        image.draw_text(x, label_y, &text, INK, scale);
    }
}

/// A short number: 3 significant digits, exponent form outside 1e-3..1e5.
pub fn label(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{value:.2e}")
    } else {
        let decimals = (2 - magnitude.log10().floor() as i32).max(0) as usize;
        format!("{value:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llc_tiles_land_in_their_face_blocks_and_land_is_grey() {
        let n = 4;
        let mut values = vec![0.0f32; 13 * n * n];
        // Tile 7 (face 4, north block): j=0,i=0 is its north-west corner.
        for (k, v) in values.iter_mut().enumerate() {
            *v = (k / (n * n)) as f32; // value = tile number
        }
        values[(7 * n) * n] = f32::NAN;
        let (image, range) = render(&values, GridLayout::Llc { n }).unwrap();
        let range = range.unwrap();
        assert!(range.low <= 0.5 && range.high >= 11.5);
        let scale = 360 / (4 * n);
        let at = |bx: usize, by: usize, x: usize, y: usize| {
            image
                .get(10 + (bx * n + x) * scale, 10 + (by * n + y) * scale)
                .unwrap()
        };
        // Tile 7's NaN is at block (2,1), top-left pixel after the transpose.
        assert_eq!(at(2, 1, 0, 0), LAND);
        // Tile 0 in the bottom-left block has the darkest colour, tile 12 the brightest.
        assert_eq!(at(0, 3, 1, 1), viridis(0.0));
        assert_eq!(at(3, 3, 1, 1), viridis(1.0));
        // The empty block above face 1 stays background.
        assert_eq!(at(0, 0, 1, 1), BACKGROUND);
    }

    #[test]
    fn latlon_maps_have_north_up_and_a_labelled_bar() {
        let (ny, nx) = (2, 4);
        let values = [1.0f32, 1.0, 1.0, f32::NAN, 2.0, 2.0, 2.0, 2.0];
        let (image, _) = render(&values, GridLayout::LatLon { ny, nx }).unwrap();
        let scale = 720 / nx;
        // Northern row (lat index 1, value 2 = bright) on top.
        assert_eq!(image.get(10, 10), Some(viridis(1.0)));
        assert_eq!(image.get(10 + 3 * scale, 10 + scale), Some(LAND));
        assert!(render(&values[..7], GridLayout::LatLon { ny, nx }).is_err());
        assert_eq!(label(0.012345), "0.0123");
        assert_eq!(label(-1234.4), "-1234");
        assert_eq!(label(2.5e7), "2.50e7");
    }
}
