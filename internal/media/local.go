package media

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// localMagic starts every file of the local store; the content type follows
// on the same line, then the data. Keeping the type in the file itself makes
// one rename publish data and type together.
const localMagic = "torget-media-1 "

// Local is a Storage in a directory of the local file system. Writes go to a
// temporary file in the target directory that is synced and then renamed
// over the key, so a reader sees the old object or the new one, never a
// partial one. All access goes through an os.Root, so neither a key nor a
// symbolic link inside the directory can reach a file outside it.
type Local struct {
	root *os.Root
}

var _ Storage = (*Local)(nil)

// NewLocal opens (creating it if needed) the directory dir as a store.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("media: create store directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("media: open store directory: %w", err)
	}
	return &Local{root: root}, nil
}

// Close releases the directory handle.
func (l *Local) Close() error { return l.root.Close() }

// Put implements Storage.
func (l *Local) Put(ctx context.Context, key, contentType string, r io.Reader, size int64) (err error) {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := validContentType(contentType); err != nil {
		return err
	}
	if size == 0 {
		return fmt.Errorf("%w: %s", ErrEmpty, key)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := path.Dir(key)
	if dir != "." {
		if err := l.root.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("media: put %s: %w", key, err)
		}
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := path.Join(dir, ".tmp-"+hex.EncodeToString(suffix[:]))
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = l.root.Remove(tmp)
		}
	}()
	w := bufio.NewWriter(f)
	if _, err = w.WriteString(localMagic + contentType + "\n"); err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1)
	}
	n, err := io.Copy(w, ctxReader{ctx, src})
	if err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	if n == 0 {
		err = fmt.Errorf("%w: %s", ErrEmpty, key)
		return err
	}
	if size >= 0 && n != size {
		err = fmt.Errorf("%w: %s: announced %d bytes", ErrSizeMismatch, key, size)
		return err
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	if err = l.root.Rename(tmp, key); err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	// Make the rename itself durable; failing to sync a directory is not
	// worth failing the write for.
	if d, derr := l.root.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Get implements Storage.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, string, error) {
	if err := ValidKey(key); err != nil {
		return nil, "", err
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	f, err := l.root.Open(key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil, "", fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return nil, "", fmt.Errorf("media: get %s: %w", key, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, "", fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	br := bufio.NewReader(f)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, localMagic) {
		_ = f.Close()
		return nil, "", fmt.Errorf("media: get %s: not a media file", key)
	}
	ct := strings.TrimSuffix(strings.TrimPrefix(line, localMagic), "\n")
	return readCloser{br, f}, ct, nil
}

// Delete implements Storage.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := l.root.Lstat(key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil
		}
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		return nil // a "directory" made by longer keys is not an object
	}
	if err := l.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	return nil
}

// isNotDir reports an ENOTDIR-like failure (a path segment is a file).
func isNotDir(err error) bool {
	return errors.Is(err, syscall.ENOTDIR)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
