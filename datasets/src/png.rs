//! A small RGB raster with text, and its PNG encoding (8-bit RGB, no interlace, zlib via
//! `flate2`, CRC-32 via `crc32fast`): enough for quicklook images without an image stack.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::ZlibEncoder;

/// An RGB colour.
pub type Rgb = [u8; 3];

/// A raster of RGB pixels, row-major from the top-left corner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` pixels.
    pub pixels: Vec<Rgb>,
}

impl Image {
    /// A `width` x `height` image filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> Image {
        Image {
            width,
            height,
            pixels: vec![background; width * height],
        }
    }

    /// Sets one pixel (outside the image: ignored).
    pub fn set(&mut self, x: usize, y: usize, colour: Rgb) {
        if x < self.width && y < self.height {
            self.pixels[y * self.width + x] = colour;
        }
    }

    /// The pixel at (x, y), `None` outside.
    pub fn get(&self, x: usize, y: usize) -> Option<Rgb> {
        (x < self.width && y < self.height).then(|| self.pixels[y * self.width + x])
    }

    /// Fills a rectangle.
    pub fn fill_rect(&mut self, x: usize, y: usize, width: usize, height: usize, colour: Rgb) {
        for yy in y..y + height {
            for xx in x..x + width {
                self.set(xx, yy, colour);
            }
        }
    }

    /// Draws `text` with the built-in 5x7 font at `scale` (characters without a glyph are
    /// left blank); returns the width drawn.
    pub fn draw_text(
        &mut self,
        x: usize,
        y: usize,
        text: &str,
        colour: Rgb,
        scale: usize,
    ) -> usize {
        let mut cursor = x;
        for c in text.chars() {
            if let Some(rows) = glyph(c) {
                for (row, bits) in rows.iter().enumerate() {
                    for col in 0..5 {
                        if bits & (0b10000 >> col) != 0 {
                            self.fill_rect(
                                cursor + col * scale,
                                y + row * scale,
                                scale,
                                scale,
                                colour,
                            );
                        }
                    }
                }
            }
            cursor += 6 * scale;
        }
        cursor - x
    }
}

/// Width in pixels of `text` drawn at `scale`.
pub fn text_width(text: &str, scale: usize) -> usize {
    text.chars().count() * 6 * scale
}

/// 5x7 glyphs of the characters colour-bar labels need.
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [
            0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110,
        ],
        '1' => [
            0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        '2' => [
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
        ],
        '3' => [
            0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110,
        ],
        '4' => [
            0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010,
        ],
        '5' => [
            0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110,
        ],
        '6' => [
            0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110,
        ],
        '7' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000,
        ],
        '8' => [
            0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110,
        ],
        '9' => [
            0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100,
        ],
        '.' => [0, 0, 0, 0, 0, 0b01100, 0b01100],
        '-' => [0, 0, 0, 0b11111, 0, 0, 0],
        '+' => [0, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0],
        'e' => [0, 0, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110],
        ' ' => [0; 7],
        _ => return None,
    })
}

/// The PNG file of an image.
pub fn encode(image: &Image) -> Vec<u8> {
    let mut raw = Vec::with_capacity(image.height * (1 + 3 * image.width));
    for row in image.pixels.chunks(image.width.max(1)) {
        raw.push(0); // filter type: none
        for pixel in row {
            raw.extend_from_slice(pixel);
        }
    }
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = zlib.write_all(&raw);
    let compressed = zlib.finish().unwrap_or_default();

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(image.width as u32).to_be_bytes());
    header.extend_from_slice(&(image.height as u32).to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, adaptive, no interlace
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &compressed);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// The viridis colour map (perceptually uniform, colour-blind safe) at `t` in [0, 1]: the
/// degree-6 polynomial fit of the matplotlib table.
pub fn viridis(t: f64) -> Rgb {
    const C: [[f64; 3]; 7] = [
        [
            0.277_727_327_223_417_7,
            0.005_407_344_544_966_578,
            0.334_099_805_335_306_1,
        ],
        [
            0.105_093_043_108_577_4,
            1.404_613_529_898_575,
            1.384_590_162_594_685,
        ],
        [
            -0.330_861_828_725_556_3,
            0.214_847_559_468_213,
            0.095_095_163_028_236_59,
        ],
        [
            -4.634_230_498_983_486,
            -5.799_100_973_351_585,
            -19.332_440_956_279_87,
        ],
        [
            6.228_269_936_347_081,
            14.179_933_366_805_09,
            56.690_556_809_713_22,
        ],
        [
            4.776_384_997_670_288,
            -13.745_145_377_746_01,
            -65.353_032_633_372_34,
        ],
        [
            -5.435_455_855_934_631,
            4.645_852_612_178_535,
            26.312_435_249_583_2,
        ],
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut rgb = [0u8; 3];
    for (channel, out) in rgb.iter_mut().enumerate() {
        let mut v = C[6][channel];
        for k in (0..6).rev() {
            v = v * t + C[k][channel];
        }
        *out = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_signature_header_and_valid_crcs() {
        let mut image = Image::new(3, 2, [255, 0, 0]);
        image.set(1, 1, [0, 0, 255]);
        let bytes = encode(&image);
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!(
            u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]),
            3
        );
        // Walk the chunks, checking each CRC independently.
        let mut at = 8;
        let mut kinds = Vec::new();
        while at < bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let kind = &bytes[at + 4..at + 8];
            let data = &bytes[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(bytes[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32fast::hash(&[kind, data].concat()));
            kinds.push(String::from_utf8_lossy(kind).to_string());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
        // The image data inflates to 2 rows of filter byte + 3 RGB pixels.
        let idat_len = u32::from_be_bytes(bytes[33..37].try_into().unwrap()) as usize;
        let mut raw = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(&bytes[41..41 + idat_len]),
            &mut raw,
        )
        .unwrap();
        assert_eq!(raw.len(), 2 * (1 + 9));
        assert_eq!(&raw[14..17], &[0, 0, 255]);
    }

    #[test]
    fn viridis_runs_from_dark_purple_to_yellow() {
        let low = viridis(0.0);
        let high = viridis(1.0);
        assert!(low[2] > low[0] && low[1] < 20, "{low:?}");
        assert!(high[0] > 200 && high[1] > 200 && high[2] < 80, "{high:?}");
        // Lightness increases monotonically (perceptual ordering).
        let luma =
            |c: Rgb| 0.2126 * f64::from(c[0]) + 0.7152 * f64::from(c[1]) + 0.0722 * f64::from(c[2]);
        let mut last = -1.0;
        for i in 0..=20 {
            let l = luma(viridis(f64::from(i) / 20.0));
            assert!(l > last, "not increasing at {i}");
            last = l;
        }
    }

    #[test]
    fn text_draws_known_glyph_pixels() {
        let mut image = Image::new(20, 10, [0, 0, 0]);
        let width = image.draw_text(0, 0, "1", [255, 255, 255], 1);
        assert_eq!(width, 6);
        assert_eq!(image.get(2, 0), Some([255, 255, 255])); // top of the 1
        assert_eq!(image.get(0, 0), Some([0, 0, 0]));
    }
}
