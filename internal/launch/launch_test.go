package launch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/launch"
)

func TestStart_ReadyThenStoppedByItsPID(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "out.log")
	marker := filepath.Join(t.TempDir(), "ready")
	p, err := launch.Start(launch.Spec{
		Name: "sh", Path: "/bin/sh", Args: []string{"-c", "echo started; touch " + marker + "; exec sleep 30"},
		LogPath: logPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(context.Background(), 5*time.Second, func() error {
		_, err := os.Stat(marker)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	killed, exitErr := p.Stop(syscall.SIGTERM, 5*time.Second)
	if killed || exitErr == nil || !p.Exited() {
		t.Fatalf("Stop: killed=%v err=%v exited=%v; want a SIGTERM exit", killed, exitErr, p.Exited())
	}
	if got := p.Tail(5); got != "started" {
		t.Errorf("Tail = %q, want %q", got, "started")
	}
}

func TestWaitReady_ProcessExitsFirst(t *testing.T) {
	p, err := launch.Start(launch.Spec{Name: "sh", Path: "/bin/sh", Args: []string{"-c", "exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(context.Background(), 5*time.Second, func() error { return errors.New("never") })
	if !errors.Is(err, launch.ErrExited) || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("WaitReady = %v, want ErrExited with the exit status", err)
	}
}

func TestStop_KillsAfterGrace(t *testing.T) {
	p, err := launch.Start(launch.Spec{Name: "sh", Path: "/bin/sh", Args: []string{"-c", "trap '' TERM; while :; do sleep 0.05; done"}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the shell install its trap
	if killed, _ := p.Stop(syscall.SIGTERM, 200*time.Millisecond); !killed {
		t.Fatal("a process ignoring SIGTERM was not killed after the grace period")
	}
}

func TestFreeAddr_Loopback(t *testing.T) {
	addr, err := launch.FreeAddr()
	if err != nil || !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":6379") {
		t.Fatalf("FreeAddr = %q, %v", addr, err)
	}
}
