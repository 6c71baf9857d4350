package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/backup"
	"github.com/lockstep-sync/lockstep/agent/internal/control"
	"github.com/lockstep-sync/lockstep/agent/internal/job"
	"github.com/lockstep-sync/lockstep/agent/internal/keyring"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// ReadPassphrase reads a backup passphrase from a file: its first line,
// without the line ending.
func ReadPassphrase(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read passphrase file: %w", err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if err := backup.CheckPassphrase(line); err != nil {
		return nil, fmt.Errorf("passphrase file %s: %w", file, err)
	}
	return line, nil
}

// BackupResult says where an archive went and how it is sealed.
type BackupResult struct {
	File   string
	Size   int64
	Online bool // made by the running agent
	Kind   backup.Kind
}

// Backup writes an archive of the data dir to file: made by the running
// agent (a consistent snapshot while it works) and downloaded over its
// admin channel, or made here from a stopped agent's store. The archive is
// sealed under the master key, or under passphrase when one is given.
func Backup(ctx context.Context, o Options, file string, passphrase []byte) (BackupResult, error) {
	if _, err := os.Stat(file); err == nil {
		return BackupResult{}, fmt.Errorf("backup: %s already exists", file)
	}
	res := BackupResult{File: file, Kind: backup.MasterKey}
	if len(passphrase) > 0 {
		res.Kind = backup.Passphrase
	}
	ran, err := onAgent(ctx, o, func(ctx context.Context, c *control.Client) error {
		if err := c.Subscribe(ctx, control.BackupJob); err != nil {
			return err
		}
		created, err := control.Call(ctx, c, protocol.BackupCreate, apitype.BackupCreateParams{Passphrase: apitype.Secret(passphrase)})
		if err != nil {
			return err
		}
		st, err := c.Wait(ctx, control.BackupJob, created.ID, nil)
		if err != nil {
			return err
		}
		res.Size, res.Online = st.Size, true
		return c.Download(ctx, control.BackupJob, st, file)
	})
	if ran {
		return res, wrapRemote("backup", err)
	}
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	key, err := resolveKey(o, layout)
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	st, _, err := openStore(layout, key, nil)
	if errors.Is(err, store.ErrLocked) {
		return BackupResult{}, errAgentWithoutChannel("backup")
	}
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	defer st.Close()
	src := backup.Source{Store: st, Layout: layout, MasterKey: key, Version: Version, Now: o.Now}
	written, err := job.WriteFile(ctx, file, "."+filepath.Base(file)+".*.partial", func(ctx context.Context, w io.Writer) error {
		return src.Write(ctx, w, passphrase, nil)
	})
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	// The agent audits the archives it makes; a stopped agent's store gets
	// the same record, under the account that ran the command.
	if _, err := audit.New(st, o.Now).Append(audit.Entry{Actor: control.Self().Actor(), Action: "backup.create", Target: "backup:" + filepath.Base(file),
		Result: audit.Success, Diff: map[string]string{"sealing": res.Kind.String()}}); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	res.Size = written.Size
	return res, nil
}

// RestoreResult says what a restore made.
type RestoreResult struct {
	DataDir    string
	InstanceID string
	CreatedAt  time.Time
	Kind       backup.Kind
	// KeySource names where the restored store's master key is.
	KeySource string
	// KeyCreated is set when a passphrase archive was restored under a new
	// master key, written to KeySource.
	KeyCreated bool
}

// Restore makes a data dir from an archive. dataDir must be absent or
// empty: everything is written to a new directory beside it (inside it when
// it exists), checked (the archive authenticated to its last byte, the
// store opened and its schema accepted), and only then renamed into place;
// a refused archive leaves nothing behind (but a key file it was told to
// create with --key-file).
//
// Which key the restored store is under: a master-key archive opens only
// with the key it was made under (from LOCKSTEP_MASTER_KEY, --key-file or
// LOCKSTEP_MASTER_KEY_FILE, or a systemd credential, since the new data dir
// holds none), and the store stays under it. A passphrase archive carries
// the old master key; the restored store is put under the key those same
// sources give, or under a new key written to the data dir's default place
// (as init does), and the sealed secrets are re-wrapped for it, so the old
// key opens nothing in the restored store.
func Restore(ctx context.Context, o Options, archivePath string, passphrase []byte) (res RestoreResult, err error) {
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %w", err)
	}
	exists, err := checkEmpty(layout.Dir)
	if err != nil {
		return RestoreResult{}, err
	}
	f, err := os.Open(archivePath)
	if err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	h, err := backup.Inspect(f)
	if err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %s: %w", archivePath, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %w", err)
	}

	// Everything is made in a private directory on the target's file
	// system, so the final renames are atomic: beside a new target, or
	// inside an existing empty one (it may be a mount point, a container's
	// volume, which cannot be replaced by a rename).
	parent := filepath.Dir(layout.Dir)
	if exists {
		parent = layout.Dir
	} else if err := os.MkdirAll(parent, 0o755); err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, stagingPrefix(layout.Dir, exists)+"*")
	if err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o700); err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %w", err)
	}
	staged := paths.Layout{Dir: tmp}
	// The key custody is resolved for the staging directory: a default key
	// file written there moves into place with everything else.
	custody := keyring.Resolve(keyring.Options{DataDir: tmp, KeyFile: o.KeyFile, Getenv: o.Getenv})
	keys := backup.Keys{Passphrase: passphrase}
	var target keyring.Key
	if h.Kind == backup.MasterKey {
		k, err := custody.Load()
		if errors.Is(err, keyring.ErrNoKey) {
			return RestoreResult{}, errors.New("restore: the archive is sealed with a master key: give the key it was made under with --key-file FILE (or LOCKSTEP_MASTER_KEY)")
		}
		if err != nil {
			return RestoreResult{}, fmt.Errorf("restore: master key from %w", err)
		}
		target, keys.MasterKey = k, k.Bytes()
	}
	a, err := backup.Open(f, keys)
	if err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %s: %w", archivePath, err)
	}
	res = RestoreResult{DataDir: layout.Dir, InstanceID: a.Manifest.InstanceID, CreatedAt: a.Manifest.CreatedAt, Kind: h.Kind, KeySource: custody.Name()}
	if h.Kind == backup.Passphrase {
		// Adopt a key the administrator supplies, or make one, before the
		// store is encrypted with it (init's order).
		_, loadErr := custody.Load()
		if target, err = initialKey(custody); err != nil {
			return RestoreResult{}, fmt.Errorf("restore: %w", err)
		}
		res.KeyCreated = errors.Is(loadErr, keyring.ErrNoKey)
	}
	if err := writeDataFiles(tmp, a.Manifest.Files); err != nil {
		return RestoreResult{}, err
	}
	sopts := store.Options{Dir: staged.Store(), Key: target.Bytes()}
	if err := store.Restore(sopts, a.Store); err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %s: %w", archivePath, err)
	}
	// Badger stops at the end of its stream; the archive must end there too.
	if n, err := io.Copy(io.Discard, a.Store); err != nil || n != 0 {
		if err == nil {
			err = fmt.Errorf("%w: %d bytes follow the store", backup.ErrDamaged, n)
		}
		return RestoreResult{}, fmt.Errorf("restore: %s: %w", archivePath, err)
	}
	if err := ctx.Err(); err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %w", err)
	}
	if err := store.CheckRestored(sopts); err != nil {
		return RestoreResult{}, fmt.Errorf("restore: the archive's store: %w", err)
	}
	if h.Kind == backup.Passphrase {
		if err := rewrapDataKeys(sopts, a.Manifest.MasterKey, target); err != nil {
			return RestoreResult{}, fmt.Errorf("restore: %w", err)
		}
	}
	// The restored store opens the way the agent will open it.
	st, _, err := openStore(staged, target, nil)
	if err != nil {
		return RestoreResult{}, fmt.Errorf("restore: the restored store does not open: %w", err)
	}
	id, ierr := st.Meta("instance_id")
	if cerr := st.Close(); ierr == nil {
		ierr = cerr
	}
	if ierr != nil || id != a.Manifest.InstanceID {
		return RestoreResult{}, fmt.Errorf("restore: the restored store does not match its manifest (instance %q, manifest %q): %v", id, a.Manifest.InstanceID, ierr)
	}
	if err := moveIntoPlace(tmp, layout.Dir, exists); err != nil {
		return RestoreResult{}, err
	}
	if strings.HasPrefix(res.KeySource, "key file "+tmp) {
		res.KeySource = "key file " + layout.MasterKey()
	}
	return res, nil
}

// stagingPrefix names the directory a restore is made in: beside a new
// target, or inside an existing one.
func stagingPrefix(dir string, inside bool) string {
	if inside {
		return ".restore-"
	}
	return "." + filepath.Base(dir) + ".restore-"
}

// checkEmpty refuses a data dir that holds anything but what an
// interrupted restore left inside it (removed here), and says whether the
// directory exists.
func checkEmpty(dir string) (exists bool, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("restore: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stagingPrefix(dir, true)) {
			return true, fmt.Errorf("restore: %s is not empty: restore into a new or empty directory (nothing was written)", dir)
		}
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return true, fmt.Errorf("restore: remove what an interrupted restore left: %w", err)
		}
	}
	return true, nil
}

// writeDataFiles writes the archive's files, which must be those an archive
// carries: nothing else is written, whatever a manifest names.
func writeDataFiles(dir string, files map[string][]byte) error {
	for _, name := range backup.DataFiles {
		data, ok := files[name]
		if !ok {
			return fmt.Errorf("restore: %w: the archive lacks %s", backup.ErrDamaged, name)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if _, err := job.WriteFile(context.Background(), p, ".restore-*", func(_ context.Context, w io.Writer) error {
			_, err := w.Write(data)
			return err
		}); err != nil {
			return fmt.Errorf("restore %s: %w", name, err)
		}
	}
	for name := range files {
		if !slices.Contains(backup.DataFiles, name) {
			return fmt.Errorf("restore: %w: the archive carries an unknown file %q", backup.ErrDamaged, name)
		}
	}
	return nil
}

// rewrapDataKeys puts the sealed data keys, wrapped under the archive's
// master key, under the restored store's key, with the two-step rotation
// key rotate uses.
func rewrapDataKeys(o store.Options, oldKey []byte, target keyring.Key) error {
	if bytes.Equal(oldKey, target.Bytes()) {
		return nil
	}
	st, err := store.Open(o)
	if err != nil {
		return err
	}
	defer st.Close()
	old, err := secret.NewSealer(oldKey, st.DataKeys())
	if err != nil {
		return err
	}
	if err := old.PrepareRotation(target.Bytes()); err != nil {
		return err
	}
	next, err := secret.NewSealer(target.Bytes(), st.DataKeys())
	if err != nil {
		return err
	}
	return next.Settle()
}

// moveIntoPlace renames the staged data dir to dir: the whole directory
// when dir is new, or its entries into dir when dir is an existing empty
// directory (then made private, as init makes a data dir).
func moveIntoPlace(staged, dir string, exists bool) error {
	if !exists {
		if err := os.Rename(staged, dir); err != nil {
			return fmt.Errorf("restore: move the restored data dir into place: %w", err)
		}
		return syncParent(dir)
	}
	entries, err := os.ReadDir(staged)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(staged, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("restore: move %s into place: %w", e.Name(), err)
		}
	}
	if err := os.Remove(staged); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restore: restrict %s: %w", dir, err)
	}
	return syncParent(staged)
}

// syncParent makes a rename in dir's parent durable (Windows has no
// directory sync; its renames are journaled by NTFS).
func syncParent(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(filepath.Dir(dir))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("restore: sync %s: %w", filepath.Dir(dir), err)
	}
	return nil
}
