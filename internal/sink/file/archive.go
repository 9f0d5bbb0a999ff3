package file

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Rotated files are named <stem>-YYYY-MM-DD<ext> for the first file of a day and
// <stem>-YYYY-MM-DD-N<ext> (N = 1, 2, ...) for the next ones, where alerts.json
// has stem "alerts" and ext ".json"; compressed ones add ".gz". While a file is
// being compressed, "<name>.gz.tmp" exists next to it.
const (
	gzSuffix  = ".gz"
	tmpSuffix = ".gz.tmp"
)

// archiveNames knows the rotated files that belong to one live file.
type archiveNames struct {
	dir, stem, ext string
}

func newArchiveNames(path string) archiveNames {
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	return archiveNames{dir: filepath.Dir(path), stem: strings.TrimSuffix(base, ext), ext: ext}
}

// archive is one rotated file, in whichever forms exist on disk.
type archive struct {
	day, seq       int
	base           string // name without .gz / .gz.tmp
	plain, gz, tmp bool
}

// parse recognises a rotated file's name and returns its day, sequence number,
// base name and the suffix after the base ("", ".gz" or ".gz.tmp").
func (a archiveNames) parse(name string) (day, seq int, base, suffix string, ok bool) {
	rest, found := strings.CutPrefix(name, a.stem+"-")
	if !found || len(rest) < 10 {
		return 0, 0, "", "", false
	}
	date := rest[:10]
	if date[4] != '-' || date[7] != '-' {
		return 0, 0, "", "", false
	}
	y, e1 := strconv.Atoi(date[:4])
	m, e2 := strconv.Atoi(date[5:7])
	d, e3 := strconv.Atoi(date[8:10])
	if e1 != nil || e2 != nil || e3 != nil || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, 0, "", "", false
	}
	rest = rest[10:]
	if strings.HasPrefix(rest, "-") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 || i > 10 {
			return 0, 0, "", "", false
		}
		seq, _ = strconv.Atoi(rest[1:i])
		rest = rest[i:]
	}
	rest, found = strings.CutPrefix(rest, a.ext)
	if !found {
		return 0, 0, "", "", false
	}
	switch rest {
	case "", gzSuffix, tmpSuffix:
	default:
		return 0, 0, "", "", false
	}
	return y*10000 + m*100 + d, seq, strings.TrimSuffix(name, rest), rest, true
}

// list returns the rotated files in the directory, oldest first.
func (a archiveNames) list() ([]archive, error) {
	entries, err := os.ReadDir(a.dir)
	if err != nil {
		return nil, err
	}
	byBase := map[string]*archive{}
	for _, e := range entries {
		day, seq, base, suffix, ok := a.parse(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		ar := byBase[base]
		if ar == nil {
			ar = &archive{day: day, seq: seq, base: base}
			byBase[base] = ar
		}
		switch suffix {
		case "":
			ar.plain = true
		case gzSuffix:
			ar.gz = true
		case tmpSuffix:
			ar.tmp = true
		}
	}
	out := make([]archive, 0, len(byBase))
	for _, ar := range byBase {
		out = append(out, *ar)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].day != out[j].day {
			return out[i].day < out[j].day
		}
		return out[i].seq < out[j].seq
	})
	return out, nil
}

// next returns the name for the next rotated file of day: one past the highest
// sequence number already used that day, so names sort in writing order even
// after max_files deleted the oldest.
func (a archiveNames) next(day int) (string, error) {
	list, err := a.list()
	if err != nil {
		return "", err
	}
	seq := 0
	for _, ar := range list {
		if ar.day == day && ar.seq+1 > seq {
			seq = ar.seq + 1
		}
	}
	name := a.stem + "-" + dayString(day)
	if seq > 0 {
		name += "-" + strconv.Itoa(seq)
	}
	return filepath.Join(a.dir, name+a.ext), nil
}

// recover finishes what a crash interrupted: it removes partial .gz.tmp files
// and plain files whose .gz is complete (a .gz only gets its name once fsynced),
// and returns the plain files still to be compressed when compress is set.
func (a archiveNames) recover(compress bool) ([]string, error) {
	list, err := a.list()
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, ar := range list {
		base := filepath.Join(a.dir, ar.base)
		if ar.tmp {
			if err := os.Remove(base + tmpSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
		switch {
		case ar.plain && ar.gz:
			if err := os.Remove(base); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		case ar.plain && compress:
			pending = append(pending, base)
		}
	}
	return pending, nil
}

// archiver compresses rotated files and applies max_files on its own goroutine,
// one job at a time, so it never races itself.
type archiver struct {
	names    archiveNames
	compress bool
	maxFiles int
	mode     os.FileMode
	log      *slog.Logger
	jobs     chan string
	done     chan struct{}
	err      error // first failure; written by the goroutine, read after done closes
}

func startArchiver(names archiveNames, compress bool, maxFiles int, mode os.FileMode, log *slog.Logger) *archiver {
	a := &archiver{
		names: names, compress: compress, maxFiles: maxFiles, mode: mode, log: log,
		jobs: make(chan string, 16), // bounded: a writer far ahead of compression waits
		done: make(chan struct{}),
	}
	go a.run()
	return a
}

// enqueue hands over a rotated file ("" to only apply max_files).
func (a *archiver) enqueue(path string) { a.jobs <- path }

// stop waits for queued work and returns the first background failure.
func (a *archiver) stop() error {
	close(a.jobs)
	<-a.done
	return a.err
}

func (a *archiver) run() {
	defer close(a.done)
	for path := range a.jobs {
		if a.compress && path != "" {
			a.check(compressFile(path, a.mode))
		}
		if a.maxFiles > 0 {
			a.check(a.prune())
		}
	}
}

// check records a failure. The data is safe either way — an uncompressed file
// is kept and compressed on the next start — so it is logged and reported by
// Close rather than failing writes.
func (a *archiver) check(err error) {
	if err == nil {
		return
	}
	a.log.Error("file sink: background archiving failed", "err", err)
	if a.err == nil {
		a.err = err
	}
}

// prune deletes the oldest rotated files beyond maxFiles, in all their forms.
func (a *archiver) prune() error {
	list, err := a.names.list()
	if err != nil {
		return fmt.Errorf("file sink: prune: %w", err)
	}
	var errs []error
	for _, ar := range list[:max(0, len(list)-a.maxFiles)] {
		base := filepath.Join(a.names.dir, ar.base)
		for _, p := range []string{base, base + gzSuffix, base + tmpSuffix} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("file sink: prune: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// compressFile gzips src to src.gz without a moment where neither a complete
// copy nor the original exists: it writes src.gz.tmp, fsyncs it, renames it to
// src.gz, fsyncs the directory and only then removes src. A src that no longer
// exists (already compressed or pruned) is not an error.
func compressFile(src string, mode os.FileMode) (err error) {
	in, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("file sink: compress: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("file sink: compress: %w", err)
	}
	tmp := src + tmpSuffix
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("file sink: compress: %w", err)
	}
	defer func() {
		if err != nil {
			_ = out.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := out.Chmod(mode); err != nil {
		return fmt.Errorf("file sink: compress: %w", err)
	}
	zw := gzip.NewWriter(out)
	zw.Name, zw.ModTime = filepath.Base(src), st.ModTime()
	if _, err := io.Copy(zw, in); err != nil {
		return fmt.Errorf("file sink: compress %s: %w", src, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("file sink: compress %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("file sink: compress %s: fsync: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("file sink: compress %s: %w", src, err)
	}
	if err := os.Rename(tmp, src+gzSuffix); err != nil {
		return fmt.Errorf("file sink: compress %s: %w", src, err)
	}
	dir := filepath.Dir(src)
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("file sink: compress %s: sync directory: %w", src, err)
	}
	if err := os.Remove(src); err != nil {
		return fmt.Errorf("file sink: compress: remove original: %w", err)
	}
	return syncDir(dir)
}
