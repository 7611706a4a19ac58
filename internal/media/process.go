package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/buckket/go-blurhash"
	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Errors from Process. They are returned wrapped; test with errors.Is.
var (
	// ErrUnsupported: the bytes are not a JPEG, PNG, WebP or GIF image,
	// whatever the file name or declared type say.
	ErrUnsupported = errors.New("media: unsupported image type")
	// ErrTooLarge: the upload has too many bytes or too many pixels.
	ErrTooLarge = errors.New("media: image too large")
	// ErrInvalid: the type is supported but the image is damaged.
	ErrInvalid = errors.New("media: invalid image")
)

// Media types that Process reads and writes.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeGIF  = "image/gif"
	TypeWebP = "image/webp"
)

// Limits bounds what Process accepts and what it produces.
// A zero field takes its value from DefaultLimits.
type Limits struct {
	MaxBytes     int64 // upload size in bytes
	MaxPixels    int64 // width × height
	MaxSide      int   // width and height each
	OriginalSide int   // the longer side of the "original" size is capped at this
	PreviewSide  int   // the longer side of the preview
	JPEGQuality  int   // 1–100
}

// DefaultLimits: 10 MiB, 40 megapixels, 8000 px a side; sizes of 2560 and
// 640 px; JPEG quality 85.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:     10 << 20,
		MaxPixels:    40_000_000,
		MaxSide:      8000,
		OriginalSide: 2560,
		PreviewSide:  640,
		JPEGQuality:  85,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = d.MaxSide
	}
	if l.OriginalSide <= 0 {
		l.OriginalSide = d.OriginalSide
	}
	if l.PreviewSide <= 0 {
		l.PreviewSide = d.PreviewSide
	}
	if l.JPEGQuality <= 0 || l.JPEGQuality > 100 {
		l.JPEGQuality = d.JPEGQuality
	}
	return l
}

// Size is one encoded size of a processed image.
type Size struct {
	Width, Height int
	MediaType     string // TypeJPEG or TypePNG
	Data          []byte
}

// Image is a processed upload: metadata-free re-encodings in two sizes.
// Width, Height and MediaType are those of Original, which is what
// federates as the attachment; Preview is for lists and pages.
type Image struct {
	Width, Height int
	MediaType     string
	// SourceType is the type sniffed from the upload's bytes.
	SourceType string
	// Blurhash is a 4×3-component placeholder, as Mastodon sends it.
	Blurhash string
	Original Size
	Preview  Size
}

// Process reads an uploaded image from r and returns its re-encoded sizes.
//
//   - The type is sniffed from the first bytes; only JPEG, PNG, WebP and GIF
//     are accepted (ErrUnsupported otherwise). Of a GIF only the first frame
//     is kept: animations become still images.
//   - At most limits.MaxBytes are read (ErrTooLarge past that), and the
//     dimensions from the image header are checked against MaxSide and
//     MaxPixels (ErrTooLarge) before any pixel is decoded, so that a
//     decompression bomb is refused without allocating its pixels.
//   - The EXIF orientation of a JPEG is applied to the pixels; then the
//     image is re-encoded, which drops EXIF (GPS included), XMP, ICC
//     profiles, comments and every other metadata.
//   - Output: JPEG stays JPEG (quality JPEGQuality), PNG stays PNG, GIF
//     becomes PNG (lossless, keeps transparency), WebP becomes JPEG when it
//     is fully opaque and PNG when it has transparency.
//   - Sizes: Original, scaled down (never up) so its longer side is at most
//     OriginalSide, and Preview, at most PreviewSide; both with Catmull-Rom.
//
// Cost: an image at the default limits (40 megapixels) takes a few seconds
// of one core and allocates about half a gigabyte for a moment (the decoded
// pixels and the scaler's intermediate rows); callers should bound how many
// uploads are processed at once.
func Process(r io.Reader, limits Limits) (*Image, error) {
	limits = limits.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, limits.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: read upload: %w", err)
	}
	if int64(len(data)) > limits.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limits.MaxBytes)
	}
	src := Sniff(data)
	if src == "" {
		return nil, ErrUnsupported
	}
	var (
		decodeConfig func(io.Reader) (image.Config, error)
		decode       func(io.Reader) (image.Image, error)
	)
	switch src {
	case TypeJPEG:
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case TypePNG:
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case TypeGIF:
		decodeConfig, decode = gif.DecodeConfig, gif.Decode // first frame only
	case TypeWebP:
		decodeConfig, decode = webp.DecodeConfig, webp.Decode
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %v", ErrInvalid, src, err)
	}
	if err := checkDimensions(cfg.Width, cfg.Height, limits); err != nil {
		return nil, err
	}
	m, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, src, err)
	}
	// The decoders allocate what the header announced, so this only
	// guards against a decoder that disagrees with its own header.
	if err := checkDimensions(m.Bounds().Dx(), m.Bounds().Dy(), limits); err != nil {
		return nil, err
	}

	// Scale first, straight from the decoded image (the scaler has fast
	// paths for the decoders' own pixel formats), then turn the smaller
	// result upright; the cap applies to the longer side, so the order
	// does not change the sizes.
	orig := fit(m, limits.OriginalSide)
	if src == TypeJPEG {
		orig = orient(orig, jpegOrientation(data))
	}
	prev := fit(orig, limits.PreviewSide)

	outType := TypePNG
	switch src {
	case TypeJPEG:
		outType = TypeJPEG
	case TypeWebP:
		if orig.Opaque() {
			outType = TypeJPEG
		}
	}

	img := &Image{SourceType: src, MediaType: outType}
	if img.Original, err = encode(orig, outType, limits.JPEGQuality); err != nil {
		return nil, err
	}
	if img.Preview, err = encode(prev, outType, limits.JPEGQuality); err != nil {
		return nil, err
	}
	img.Width, img.Height = img.Original.Width, img.Original.Height
	if img.Blurhash, err = blurhash.Encode(4, 3, prev); err != nil {
		return nil, fmt.Errorf("media: blurhash: %w", err)
	}
	return img, nil
}

// Inspect checks that data is a JPEG, PNG, GIF or WebP image by its bytes
// (whatever type it was declared as) within limits' pixel bounds, reading
// only its header. It returns the sniffed type.
func Inspect(data []byte, limits Limits) (string, error) {
	limits = limits.withDefaults()
	if int64(len(data)) > limits.MaxBytes {
		return "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limits.MaxBytes)
	}
	var decodeConfig func(io.Reader) (image.Config, error)
	mt := Sniff(data)
	switch mt {
	case TypeJPEG:
		decodeConfig = jpeg.DecodeConfig
	case TypePNG:
		decodeConfig = png.DecodeConfig
	case TypeGIF:
		decodeConfig = gif.DecodeConfig
	case TypeWebP:
		decodeConfig = webp.DecodeConfig
	default:
		return "", ErrUnsupported
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %s header: %v", ErrInvalid, mt, err)
	}
	if err := checkDimensions(cfg.Width, cfg.Height, limits); err != nil {
		return "", err
	}
	return mt, nil
}

// Sniff returns the image type that data starts with, or "" when it is
// none of JPEG, PNG, GIF and WebP.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return TypeJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return TypeGIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return TypeWebP
	}
	return ""
}

func checkDimensions(w, h int, l Limits) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %d×%d pixels", ErrInvalid, w, h)
	}
	if w > l.MaxSide || h > l.MaxSide || int64(w)*int64(h) > l.MaxPixels {
		return fmt.Errorf("%w: %d×%d pixels (at most %d a side and %d in all)",
			ErrTooLarge, w, h, l.MaxSide, l.MaxPixels)
	}
	return nil
}

// toRGBA copies m into a premultiplied RGBA image at the origin.
func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Src)
	return dst
}

// fit scales m down into a new RGBA image whose longer side is at most
// side; an image that already fits is only copied (or, when it is an RGBA
// image at the origin already, returned as it is).
func fit(m image.Image, side int) *image.RGBA {
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	if w <= side && h <= side {
		if r, ok := m.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
			return r
		}
		return toRGBA(m)
	}
	var nw, nh int
	if w >= h {
		nw, nh = side, int((int64(h)*int64(side)+int64(w)/2)/int64(w))
	} else {
		nw, nh = int((int64(w)*int64(side)+int64(h)/2)/int64(h)), side
	}
	nw, nh = max(nw, 1), max(nh, 1)
	dst := image.NewRGBA(image.Rect(0, 0, nw, nh))
	draw.CatmullRom.Scale(dst, dst.Bounds(), m, m.Bounds(), draw.Src, nil)
	return dst
}

func encode(m *image.RGBA, mediaType string, quality int) (Size, error) {
	var buf bytes.Buffer
	var err error
	switch mediaType {
	case TypeJPEG:
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality})
	default:
		err = png.Encode(&buf, m)
	}
	if err != nil {
		return Size{}, fmt.Errorf("media: encode %s: %w", mediaType, err)
	}
	b := m.Bounds()
	return Size{Width: b.Dx(), Height: b.Dy(), MediaType: mediaType, Data: buf.Bytes()}, nil
}
