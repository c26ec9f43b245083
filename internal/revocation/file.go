package revocation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/avedge/avedge/internal/sessions"
)

// fileVersion is the only version of the file format.
const fileVersion = 1

// file is the JSON form of the revocation file, as written.
type file struct {
	Version     int                   `json:"version"`
	Revocations []sessions.Revocation `json:"revocations"`
}

// fileIn is the JSON form of the revocation file as read: times are parsed
// after decoding, so that an error can say which revocation holds a bad one.
type fileIn struct {
	Version     *int             `json:"version"`
	Revocations []fileRevocation `json:"revocations"`
}

// fileRevocation is a revocation as read, its times not parsed yet.
type fileRevocation struct {
	Identity string `json:"identity"`
	At       string `json:"at"`
	Until    string `json:"until"`
}

// decode parses a revocation file strictly and checks its revocations:
// valid identities, each once, each with an "at". Its errors say where the
// fault is (line and column for JSON errors, the index of a revocation)
// but not which file.
func decode(data []byte) ([]sessions.Revocation, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileIn
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty")
		}
		return nil, at(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := position(data, dec.InputOffset())
		return nil, fmt.Errorf("line %d, column %d: data after the top-level object", line, col)
	}
	switch {
	case f.Version == nil:
		return nil, errors.New(`no "version"`)
	case *f.Version != fileVersion:
		return nil, fmt.Errorf(`"version" %d, want %d`, *f.Version, fileVersion)
	}
	revs := make([]sessions.Revocation, len(f.Revocations))
	index := make(map[string]int, len(f.Revocations))
	for i, fr := range f.Revocations {
		r, err := fr.parse()
		if err != nil {
			return nil, fmt.Errorf("revocations[%d]: %w", i, err)
		}
		if j, dup := index[r.Identity]; dup {
			return nil, fmt.Errorf("revocations[%d] and [%d] both revoke %q", j, i, r.Identity)
		}
		index[r.Identity] = i
		revs[i] = r
	}
	return revs, nil
}

// parse checks fr's identity and parses its times (RFC 3339; "at"
// required, "until" optional).
func (fr fileRevocation) parse() (sessions.Revocation, error) {
	if err := validIdentity(fr.Identity); err != nil {
		return sessions.Revocation{}, err
	}
	r := sessions.Revocation{Identity: fr.Identity}
	if fr.At == "" {
		return r, fmt.Errorf(`%q: no "at"`, r.Identity)
	}
	var err error
	if r.At, err = time.Parse(time.RFC3339, fr.At); err != nil {
		return r, fmt.Errorf(`%q: "at": %w`, r.Identity, err)
	}
	if fr.Until == "" {
		return r, nil
	}
	if r.Until, err = time.Parse(time.RFC3339, fr.Until); err != nil {
		return r, fmt.Errorf(`%q: "until": %w`, r.Identity, err)
	}
	return r, nil
}

// at adds the line and column of a JSON syntax or type error to it.
func at(data []byte, err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		offset int64
	)
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	default:
		return err
	}
	line, col := position(data, offset)
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// position returns the line and column (1-based, in bytes) of the last
// byte the JSON decoder read when it reported a fault after offset bytes:
// the unexpected character of a syntax error, the end of a value of the
// wrong type.
func position(data []byte, offset int64) (line, col int) {
	last := min(max(offset-1, 0), int64(len(data)))
	before := data[:last]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// encode returns the file holding revs.
func encode(revs []sessions.Revocation) ([]byte, error) {
	data, err := json.MarshalIndent(file{Version: fileVersion, Revocations: revs}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// writeAtomic replaces the file at path with data: it writes a temporary
// file of mode 0600 in the same directory (created with mode 0700 if
// missing), syncs it and renames it over path, so that a reader sees the
// old file or the new one, never a part. It returns the new file's
// FileInfo, which os.Stat(path) matches until the file is replaced again,
// and whether syncing the directory (which makes the rename itself
// durable) failed: the file is in place then all the same.
func writeAtomic(path string, data []byte) (info os.FileInfo, dirErr, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, nil, err
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return nil, nil, err
	}
	if _, err := f.Write(data); err != nil {
		return nil, nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, nil, err
	}
	if info, err = f.Stat(); err != nil {
		return nil, nil, err
	}
	if err := f.Close(); err != nil {
		return nil, nil, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return nil, nil, err
	}
	renamed = true
	return info, syncDir(dir), nil
}

// syncDir syncs the directory dir.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
