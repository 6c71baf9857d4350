//go:build windows

package service

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	kservice "github.com/kardianos/service"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// recoveryActions restart a failed agent after 5 s, 30 s and 60 s (and every
// 60 s after that); a day without failures resets the count.
var recoveryActions = []mgr.RecoveryAction{
	{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
	{Type: mgr.ServiceRestart, Delay: 60 * time.Second},
}

const recoveryResetPeriod = uint32(24 * time.Hour / time.Second)

// preshutdownTimeout is how long Windows waits for the agent at shutdown once
// it has accepted SERVICE_CONTROL_PRESHUTDOWN: Run's stop bound plus slack.
const preshutdownTimeout = StopTimeout + 5*time.Second

// dataDirSDDL is the data directory's protected DACL: full control for
// SYSTEM and Administrators, inherited by everything below, nothing for
// Users (who would otherwise inherit read access from %ProgramData%).
const dataDirSDDL = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

func checkPlatform() error { return nil }

func platformOptions(_ Config, _ string, kc *kservice.Config) error {
	// Delayed start keeps the agent out of the boot rush; it needs the network
	// and the work systems anyway.
	kc.Option["StartType"] = "automatic"
	kc.Option["DelayedAutoStart"] = true
	return nil
}

func beforeInstall(cfg Config) error {
	fi, err := os.Stat(cfg.Executable)
	if err != nil {
		return fmt.Errorf("check executable: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("check executable: %s is not a file", cfg.Executable)
	}
	return nil
}

// afterInstall sets what kardianos cannot: three recovery actions, recovery
// on non-crash failures too (Run reports a failed serve as a service-specific
// exit code, which the SCM otherwise treats as a clean stop), the pre-shutdown
// timeout, and the data directory's ACL. The ACL comes last because the
// virtual account NT SERVICE\<name> only resolves once the service exists.
func afterInstall(cfg Config) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service control manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(cfg.Name)
	if err != nil {
		return fmt.Errorf("open the new service: %w", err)
	}
	defer s.Close()
	if err := s.SetRecoveryActions(recoveryActions, recoveryResetPeriod); err != nil {
		return fmt.Errorf("set recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("enable recovery on non-crash failures: %w", err)
	}
	info := struct{ PreshutdownTimeout uint32 }{uint32(preshutdownTimeout / time.Millisecond)}
	if err := windows.ChangeServiceConfig2(s.Handle, windows.SERVICE_CONFIG_PRESHUTDOWN_INFO, (*byte)(unsafe.Pointer(&info))); err != nil {
		return fmt.Errorf("set the pre-shutdown timeout: %w", err)
	}
	return protectDataDir(cfg)
}

// protectDataDir creates the data directory and replaces its DACL with
// dataDirSDDL (plus the service account, if it is not LocalSystem), so the
// master key and the store are private whatever %ProgramData% allows.
// SetNamedSecurityInfo propagates the inheritable entries to existing files.
func protectDataDir(cfg Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	sddl := dataDirSDDL
	if cfg.User != "" {
		sid, _, _, err := windows.LookupSID("", cfg.User)
		if err != nil {
			return fmt.Errorf("look up account %s: %w", cfg.User, err)
		}
		sddl += "(A;OICI;FA;;;" + sid.String() + ")"
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("build data dir ACL: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("build data dir ACL: %w", err)
	}
	err = windows.SetNamedSecurityInfo(cfg.DataDir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("set data dir ACL: %w", err)
	}
	return nil
}

func start(s kservice.Service) error {
	if err := s.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return err
	}
	return nil
}

// stop asks the SCM to stop the service and waits, bounded, for it to get
// there; kardianos' own stop polls forever if the service hangs.
func stop(_ kservice.Service, cfg Config) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service control manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(cfg.Name)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return ErrNotInstalled
	}
	if err != nil {
		return fmt.Errorf("open service: %w", err)
	}
	defer s.Close()
	st, err := s.Control(svc.Stop)
	if errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("send stop: %w", err)
	}
	const wait = preshutdownTimeout + 5*time.Second
	deadline := time.Now().Add(wait)
	for st.State != svc.Stopped {
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for stop: the service still reports state %d after %s", st.State, wait)
		}
		time.Sleep(250 * time.Millisecond)
		if st, err = s.Query(); err != nil {
			return fmt.Errorf("wait for stop: %w", err)
		}
	}
	return nil
}

func withHint(err error) error {
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return fmt.Errorf("%w (run it from an elevated prompt: Run as administrator)", err)
	}
	return err
}
