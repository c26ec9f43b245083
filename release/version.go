package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// gitOutput runs git in the repository and returns its trimmed output.
func gitOutput(ctx context.Context, repo string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// sourceDate is SOURCE_DATE_EPOCH when set, else the time of the HEAD
// commit: the time stamped into packages and the image.
func sourceDate(ctx context.Context, repo string) (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		var err error
		if s, err = gitOutput(ctx, repo, "log", "-1", "--format=%ct"); err != nil {
			return time.Time{}, fmt.Errorf("source date (set SOURCE_DATE_EPOCH): %w", err)
		}
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: SOURCE_DATE_EPOCH %q is not a number of seconds", ErrUsage, s)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// gitVersion is the version of HEAD: X.Y.Z for a tag vX.Y.Z on it, else
// 0.0.0-git<commit date>.<short commit>, with ".dirty" when the work tree
// has changes.
func gitVersion(ctx context.Context, repo string, date time.Time) (string, error) {
	if tag, err := gitOutput(ctx, repo, "describe", "--tags", "--exact-match", "--match", "v[0-9]*", "HEAD"); err == nil {
		if v := strings.TrimPrefix(tag, "v"); versionPattern.MatchString(v) {
			return v, nil
		}
	}
	commit, err := gitOutput(ctx, repo, "rev-parse", "--short=12", "HEAD")
	if err != nil {
		return "", fmt.Errorf("version (pass --version): %w", err)
	}
	v := "0.0.0-git" + date.Format("20060102150405") + "." + commit
	status, err := gitOutput(ctx, repo, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return "", fmt.Errorf("version (pass --version): %w", err)
	}
	if status != "" {
		v += ".dirty"
	}
	return v, nil
}
