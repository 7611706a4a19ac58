package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

var (
	red  = color.RGBA{255, 0, 0, 255}
	blue = color.RGBA{0, 0, 255, 255}
)

// halves is a w×h image, red on the left half and blue on the right, with a
// little noise so that encoders have something to do.
func halves(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := red
			if x >= w/2 {
				c = blue
			}
			c.G = uint8((x*7 + y*13) % 32)
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gpsSecret is written into the hand-made EXIF block; it must not survive.
const gpsSecret = "GPS-59.3293N-18.0686E-SECRET"

// gpsLatitude is the rational triple 59/1 19/1 4548/100 as it appears in
// the EXIF block; these bytes must not survive either.
var gpsLatitude = []byte{0, 0, 0, 59, 0, 0, 0, 1, 0, 0, 0, 19, 0, 0, 0, 1, 0, 0, 0x11, 0xc4, 0, 0, 0, 100}

// exifAPP1 builds an APP1 segment by hand: a big-endian TIFF structure whose
// IFD0 holds the orientation, an ImageDescription and a pointer to a GPS IFD
// with latitude ref, latitude and a processing method.
func exifAPP1(orientation uint16) []byte {
	be := binary.BigEndian
	var t []byte
	u16 := func(v uint16) { t = be.AppendUint16(t, v) }
	u32 := func(v uint32) { t = be.AppendUint32(t, v) }
	entry := func(tag, typ uint16, count, value uint32) { u16(tag); u16(typ); u32(count); u32(value) }

	// Layout: header 8 | IFD0 (2 + 3*12 + 4 = 42) at 8 | GPS IFD (2 + 3*12 + 4 = 42) at 50 |
	// data area at 92: latitude (24), description, processing method.
	const ifd0, gpsIFD, dataArea = 8, 50, 92
	desc := gpsSecret + "\x00"
	method := "ASCII\x00\x00\x00" + gpsSecret
	t = append(t, "MM"...)
	u16(42)
	u32(ifd0)
	u16(3)
	entry(0x010e, 2, uint32(len(desc)), dataArea+24)                     // ImageDescription
	entry(0x0112, 3, 1, uint32(orientation)<<16)                         // Orientation (SHORT, left-justified)
	entry(0x8825, 4, 1, gpsIFD)                                          // GPSInfo IFD pointer
	u32(0)                                                               // no IFD1
	u16(3)                                                               // GPS IFD
	entry(0x0001, 2, 2, uint32('N')<<24)                                 // GPSLatitudeRef "N"
	entry(0x0002, 5, 3, dataArea)                                        // GPSLatitude
	entry(0x001b, 7, uint32(len(method)), dataArea+24+uint32(len(desc))) // GPSProcessingMethod
	u32(0)
	t = append(t, gpsLatitude...)
	t = append(t, desc...)
	t = append(t, method...)

	payload := append([]byte("Exif\x00\x00"), t...)
	seg := []byte{0xff, 0xe1}
	seg = be.AppendUint16(seg, uint16(len(payload)+2))
	return append(seg, payload...)
}

// withSegment inserts seg right after the SOI marker of a JPEG.
func withSegment(jpg, seg []byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngChunk builds one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// pngBomb is a PNG header claiming w×h RGBA pixels, with a few bytes of
// compressed data after it.
func pngBomb(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1})...)
	return append(b, pngChunk("IEND", nil)...)
}

// jpegBomb is a JPEG whose frame header claims w×h pixels.
func jpegBomb(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xc0, 0, 17, 8}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	b = append(b, 0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0) // SOS
	return append(b, 0xff, 0xd9)
}

// gifBomb is a GIF whose logical screen is w×h.
func gifBomb(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, 0x3b)
}

func process(t testing.TB, data []byte) *Image {
	t.Helper()
	img, err := Process(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return img
}

// checkImage verifies the invariants every processed image has.
func checkImage(t testing.TB, img *Image, limits Limits) {
	t.Helper()
	limits = limits.withDefaults()
	if img.Width != img.Original.Width || img.Height != img.Original.Height || img.MediaType != img.Original.MediaType {
		t.Fatalf("top-level fields %dx%d %s differ from original %dx%d %s",
			img.Width, img.Height, img.MediaType, img.Original.Width, img.Original.Height, img.Original.MediaType)
	}
	if len(img.Blurhash) != 28 {
		t.Fatalf("blurhash %q, want 28 characters for 4×3 components", img.Blurhash)
	}
	for name, s := range map[string]struct {
		size Size
		side int
	}{"original": {img.Original, limits.OriginalSide}, "preview": {img.Preview, limits.PreviewSide}} {
		if s.size.Width > s.side || s.size.Height > s.side || s.size.Width < 1 || s.size.Height < 1 {
			t.Fatalf("%s is %dx%d, limit %d", name, s.size.Width, s.size.Height, s.side)
		}
		if Sniff(s.size.Data) != s.size.MediaType || s.size.MediaType != img.MediaType {
			t.Fatalf("%s data sniffs as %q, says %q", name, Sniff(s.size.Data), s.size.MediaType)
		}
		var cfg image.Config
		var err error
		if s.size.MediaType == TypeJPEG {
			cfg, err = jpeg.DecodeConfig(bytes.NewReader(s.size.Data))
		} else {
			cfg, err = png.DecodeConfig(bytes.NewReader(s.size.Data))
		}
		if err != nil || cfg.Width != s.size.Width || cfg.Height != s.size.Height {
			t.Fatalf("%s decodes as %dx%d (%v), says %dx%d", name, cfg.Width, cfg.Height, err, s.size.Width, s.size.Height)
		}
		bads := [][]byte{[]byte("Exif"), []byte(gpsSecret), gpsLatitude}
		if s.size.MediaType == TypeJPEG {
			// 0xff is stuffed in entropy-coded data, so this is an APP1
			// marker wherever it occurs.
			bads = append(bads, []byte{0xff, 0xe1})
		}
		for _, bad := range bads {
			if bytes.Contains(s.size.Data, bad) {
				t.Fatalf("%s still contains %q", name, bad)
			}
		}
	}
}

func near(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) bool { return x>>8 < y>>8+60 && y>>8 < x>>8+60 }
	return d(r1, r2) && d(g1, g2) && d(b1, b2)
}

func decode(t testing.TB, s Size) image.Image {
	t.Helper()
	var m image.Image
	var err error
	if s.MediaType == TypeJPEG {
		m, err = jpeg.Decode(bytes.NewReader(s.Data))
	} else {
		m, err = png.Decode(bytes.NewReader(s.Data))
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestProcessJPEGIsScaledToBothSizes(t *testing.T) {
	img := process(t, encodeJPEG(t, halves(3000, 2000)))
	checkImage(t, img, Limits{})
	if img.SourceType != TypeJPEG || img.MediaType != TypeJPEG {
		t.Fatalf("types %s -> %s", img.SourceType, img.MediaType)
	}
	if img.Width != 2560 || img.Height != 1707 {
		t.Fatalf("original %dx%d, want 2560x1707", img.Width, img.Height)
	}
	if img.Preview.Width != 640 || img.Preview.Height != 427 {
		t.Fatalf("preview %dx%d, want 640x427", img.Preview.Width, img.Preview.Height)
	}
	p := decode(t, img.Preview)
	if !near(p.At(10, 200), red) || !near(p.At(630, 200), blue) {
		t.Fatalf("preview colours %v %v", p.At(10, 200), p.At(630, 200))
	}
}

func TestProcessSmallImageIsNotEnlarged(t *testing.T) {
	img := process(t, encodePNG(t, halves(100, 50)))
	checkImage(t, img, Limits{})
	if img.Width != 100 || img.Height != 50 || img.Preview.Width != 100 || img.Preview.Height != 50 {
		t.Fatalf("sizes %dx%d / %dx%d", img.Width, img.Height, img.Preview.Width, img.Preview.Height)
	}
}

func TestProcessPNGStaysPNGWithTransparency(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 800, 400))
	for i := range m.Pix {
		if i%4 == 3 {
			m.Pix[i] = uint8(i / 4 % 256) // varying alpha
		} else {
			m.Pix[i] = 200
		}
	}
	img := process(t, encodePNG(t, m))
	checkImage(t, img, Limits{})
	if img.MediaType != TypePNG || img.Preview.Width != 640 || img.Preview.Height != 320 {
		t.Fatalf("got %s preview %dx%d", img.MediaType, img.Preview.Width, img.Preview.Height)
	}
	if _, _, _, a := decode(t, img.Original).At(0, 0).RGBA(); a != 0 {
		t.Fatalf("transparency lost: alpha %d at 0,0", a)
	}
}

func TestProcessGIFKeepsFirstFrameAsPNG(t *testing.T) {
	pal := color.Palette{red, blue}
	frame := func(idx uint8) *image.Paletted {
		p := image.NewPaletted(image.Rect(0, 0, 30, 20), pal)
		for i := range p.Pix {
			p.Pix[i] = idx
		}
		return p
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{frame(0), frame(1)}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	img := process(t, b.Bytes())
	checkImage(t, img, Limits{})
	if img.SourceType != TypeGIF || img.MediaType != TypePNG || img.Width != 30 || img.Height != 20 {
		t.Fatalf("got %s -> %s %dx%d", img.SourceType, img.MediaType, img.Width, img.Height)
	}
	if c := decode(t, img.Original).At(5, 5); !near(c, red) {
		t.Fatalf("pixel %v, want the red first frame", c)
	}
}

func TestProcessWebP(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"testdata/opaque.lossy.webp", TypeJPEG},
		{"testdata/alpha.lossless.webp", TypePNG},
	} {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		img := process(t, data)
		checkImage(t, img, Limits{})
		if img.SourceType != TypeWebP || img.MediaType != tc.want {
			t.Errorf("%s: %s -> %s, want %s", tc.file, img.SourceType, img.MediaType, tc.want)
		}
	}
}

func TestProcessStripsExifAndGPS(t *testing.T) {
	orig := encodeJPEG(t, halves(64, 48))
	in := withSegment(orig, exifAPP1(1))
	for _, needle := range [][]byte{[]byte("Exif"), []byte(gpsSecret), gpsLatitude} {
		if !bytes.Contains(in, needle) {
			t.Fatalf("test input lacks %q", needle)
		}
	}
	if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("test input is not a valid JPEG: %v", err)
	}
	img := process(t, in)
	checkImage(t, img, Limits{}) // checks Exif, GPS bytes and APP1 are gone
	if img.Width != 64 || img.Height != 48 {
		t.Fatalf("orientation 1 changed the size to %dx%d", img.Width, img.Height)
	}
}

func TestProcessAppliesExifOrientation(t *testing.T) {
	// Stored 80×40, red left, blue right; orientation 6 means "turn 90°
	// clockwise to display", so the upright image is 40×80, red on top.
	in := withSegment(encodeJPEG(t, halves(80, 40)), exifAPP1(6))
	if o := jpegOrientation(in); o != 6 {
		t.Fatalf("jpegOrientation = %d", o)
	}
	img := process(t, in)
	checkImage(t, img, Limits{})
	if img.Width != 40 || img.Height != 80 {
		t.Fatalf("got %dx%d, want 40x80", img.Width, img.Height)
	}
	m := decode(t, img.Original)
	if !near(m.At(20, 10), red) || !near(m.At(20, 70), blue) {
		t.Fatalf("top %v bottom %v, want red over blue", m.At(20, 10), m.At(20, 70))
	}
}

func TestProcessOrientsAfterScaling(t *testing.T) {
	img := process(t, withSegment(encodeJPEG(t, halves(3000, 2000)), exifAPP1(8)))
	checkImage(t, img, Limits{})
	if img.Width != 1707 || img.Height != 2560 || img.Preview.Width != 427 || img.Preview.Height != 640 {
		t.Fatalf("got %dx%d / %dx%d", img.Width, img.Height, img.Preview.Width, img.Preview.Height)
	}
	// Orientation 8: turn 90° counter-clockwise, so the right (blue) half
	// ends up on top.
	m := decode(t, img.Preview)
	if !near(m.At(200, 50), blue) || !near(m.At(200, 600), red) {
		t.Fatalf("top %v bottom %v, want blue over red", m.At(200, 50), m.At(200, 600))
	}
}

func TestTIFFOrientationLittleEndian(t *testing.T) {
	// II, 42, IFD0 at 8; one entry: 0x0112 SHORT 1 value 3.
	tiff := []byte{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}
	if o := tiffOrientation(tiff); o != 3 {
		t.Fatalf("got %d, want 3", o)
	}
	tiff[18] = 9 // out of range
	if o := tiffOrientation(tiff); o != 0 {
		t.Fatalf("got %d for orientation 9, want 0", o)
	}
}

func TestOrientAllEight(t *testing.T) {
	// A 3×2 image with distinct pixels 0..5 in reading order:
	//   0 1 2
	//   3 4 5
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := 0; i < 6; i++ {
		src.Pix[i*4] = uint8(i)
	}
	want := map[int][]string{
		1: {"012", "345"},
		2: {"210", "543"},
		3: {"543", "210"},
		4: {"345", "012"},
		5: {"03", "14", "25"},
		6: {"30", "41", "52"},
		7: {"52", "41", "30"},
		8: {"25", "14", "03"},
	}
	for o, rows := range want {
		m := orient(src, o)
		var got []string
		for y := 0; y < m.Bounds().Dy(); y++ {
			var sb strings.Builder
			for x := 0; x < m.Bounds().Dx(); x++ {
				sb.WriteByte('0' + m.Pix[y*m.Stride+x*4])
			}
			got = append(got, sb.String())
		}
		if strings.Join(got, "/") != strings.Join(rows, "/") {
			t.Errorf("orientation %d: got %v, want %v", o, got, rows)
		}
	}
}

func TestProcessRefusesDecompressionBombs(t *testing.T) {
	for name, data := range map[string][]byte{
		"png 100000x100000":     pngBomb(100000, 100000),
		"png 8000x8000 (64 MP)": pngBomb(8000, 8000),
		"png 9000x10":           pngBomb(9000, 10),
		"jpeg 65000x65000":      jpegBomb(65000, 65000),
		"gif 65535x65535":       gifBomb(65535, 65535),
	} {
		t.Run(name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Process(bytes.NewReader(data), Limits{})
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 50<<20 {
				t.Fatalf("allocated %d MiB to refuse it", alloc>>20)
			}
			if elapsed > time.Second {
				t.Fatalf("took %v", elapsed)
			}
		})
	}
}

func TestProcessRefusesTooManyBytes(t *testing.T) {
	data := encodePNG(t, halves(200, 200))
	_, err := Process(bytes.NewReader(data), Limits{MaxBytes: int64(len(data) - 1)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := Process(bytes.NewReader(data), Limits{MaxBytes: int64(len(data))}); err != nil {
		t.Fatalf("exactly MaxBytes refused: %v", err)
	}
}

func TestProcessRefusesUnsupported(t *testing.T) {
	for name, data := range map[string]string{
		"text":          "Hello, this is not an image.\n",
		"svg":           `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`,
		"svg bare":      `<svg xmlns="http://www.w3.org/2000/svg"/>`,
		"html":          "<!doctype html><img src=x onerror=alert(1)>",
		"bmp":           "BM\x3e\x00\x00\x00\x00\x00\x00\x00\x3e\x00\x00\x00\x28\x00",
		"empty":         "",
		"riff not webp": "RIFF\x10\x00\x00\x00WAVEfmt ",
	} {
		if _, err := Process(strings.NewReader(data), Limits{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
	}
}

func TestProcessRefusesDamagedImages(t *testing.T) {
	jpg := encodeJPEG(t, halves(300, 200))
	pngData := encodePNG(t, halves(300, 200))
	for name, data := range map[string][]byte{
		"truncated jpeg":     jpg[:len(jpg)/2],
		"jpeg header only":   jpg[:3],
		"truncated png":      pngData[:len(pngData)/2],
		"png signature only": pngData[:8],
		"png zero width":     pngBomb(0, 10),
		"gif header only":    []byte("GIF89a"),
		"webp header only":   []byte("RIFF\x04\x00\x00\x00WEBP"),
	} {
		_, err := Process(bytes.NewReader(data), Limits{})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestJPEGOrientationIgnoresJunk(t *testing.T) {
	for _, data := range [][]byte{
		nil, {0xff, 0xd8}, {0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff},
		withSegment([]byte{0xff, 0xd8, 0xff, 0xd9}, []byte{0xff, 0xe1, 0, 10, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M'}),
	} {
		if o := jpegOrientation(data); o != 1 {
			t.Errorf("jpegOrientation(% x) = %d", data, o)
		}
	}
}

func FuzzProcess(f *testing.F) {
	small := halves(40, 30)
	f.Add(encodePNG(f, small))
	f.Add(encodeJPEG(f, small))
	f.Add(withSegment(encodeJPEG(f, small), exifAPP1(6)))
	var g bytes.Buffer
	if err := gif.Encode(&g, small, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(g.Bytes())
	for _, name := range []string{"testdata/opaque.lossy.webp", "testdata/alpha.lossless.webp"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(pngBomb(100000, 100000))
	f.Add(jpegBomb(300, 200))
	f.Add(gifBomb(10, 10))
	f.Add([]byte("<svg/>"))
	// Small limits keep each run cheap; the code paths are the same.
	limits := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 2048, OriginalSide: 256, PreviewSide: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Process(bytes.NewReader(data), limits)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		checkImage(t, img, limits)
	})
}
