package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// sumsName is the checksum file's name in the output directory.
const sumsName = "SHA256SUMS"

// writeSums writes SHA256SUMS over the artifacts of this run, in the
// format sha256sum -c reads.
func (b *builder) writeSums() error {
	names := slices.Sorted(slices.Values(b.artifacts))
	var out strings.Builder
	for _, name := range names {
		sum, err := fileSHA256(filepath.Join(b.opts.out, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "%s  %s\n", sum, name)
	}
	if err := os.WriteFile(filepath.Join(b.opts.out, sumsName), []byte(out.String()), 0o644); err != nil {
		return fmt.Errorf("%s: %w", sumsName, err)
	}
	b.log.Info("wrote", "file", sumsName, "artifacts", len(names))
	return nil
}

// fileSHA256 returns the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("checksum: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checksum of %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
