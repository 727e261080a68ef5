package memory_test

import (
	"testing"
	"time"

	"github.com/authsvc/authsvc/internal/store/memory"
	"github.com/authsvc/authsvc/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		clock := storetest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
		return storetest.Harness{Store: memory.New(clock.Now), Clock: clock}
	})
}
