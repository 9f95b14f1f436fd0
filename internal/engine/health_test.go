package engine

import (
	"fmt"
	"testing"
	"time"

	"pea/internal/image"
	"pea/internal/model"
)

func TestHealthStatusRules(t *testing.T) {
	cfg := &model.HealthConfig{Test: []string{"CMD", "true"}, Retries: 2, StartPeriod: 10 * time.Second}
	ok, fail := model.HealthLog{ExitCode: 0}, model.HealthLog{ExitCode: 1}
	type step struct {
		res    model.HealthLog
		since  time.Duration
		status string
		streak int
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a success makes it healthy", []step{{ok, time.Second, "healthy", 0}}},
		{"failures in the start period count for nothing", []step{{fail, time.Second, "starting", 0}, {fail, 9 * time.Second, "starting", 0}}},
		{"a success in the start period counts", []step{{fail, time.Second, "starting", 0}, {ok, 2 * time.Second, "healthy", 0}}},
		{"unhealthy after retries failures", []step{{fail, 11 * time.Second, "starting", 1}, {fail, 12 * time.Second, "unhealthy", 2}, {fail, 13 * time.Second, "unhealthy", 3}}},
		{"healthy stays until retries failures", []step{{ok, time.Second, "healthy", 0}, {fail, 11 * time.Second, "healthy", 1}, {fail, 12 * time.Second, "unhealthy", 2}}},
		{"a success ends the streak", []step{{fail, 11 * time.Second, "starting", 1}, {fail, 12 * time.Second, "unhealthy", 2}, {ok, 13 * time.Second, "healthy", 0}, {fail, 14 * time.Second, "healthy", 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startingHealth(nil)
			for i, s := range tc.steps {
				h.Record(s.res, s.since, cfg, model.HealthLogLength)
				if h.Status != s.status || h.FailingStreak != s.streak {
					t.Fatalf("step %d: got %s/%d, want %s/%d", i, h.Status, h.FailingStreak, s.status, s.streak)
				}
			}
		})
	}
}

func TestHealthLogKeepsTheLastFive(t *testing.T) {
	h := startingHealth(nil)
	cfg := &model.HealthConfig{Test: []string{"CMD", "true"}, Retries: 3}
	for i := range 8 {
		h.Record(model.HealthLog{ExitCode: i}, time.Minute, cfg, model.HealthLogLength)
	}
	if len(h.Log) != model.HealthLogLength || h.Log[0].ExitCode != 3 || h.Log[4].ExitCode != 7 {
		t.Fatalf("log: %+v", h.Log)
	}
	// A restart starts over from "starting" and keeps the log.
	if n := startingHealth(h); n.Status != model.HealthStarting || n.FailingStreak != 0 || len(n.Log) != 5 {
		t.Fatalf("restarted: %+v", n)
	}
}

func TestHealthArgv(t *testing.T) {
	for _, tc := range []struct {
		test []string
		want string
	}{
		{[]string{"CMD-SHELL", "curl -f localhost || exit 1"}, "[/bin/sh -c curl -f localhost || exit 1]"},
		{[]string{"CMD", "/bin/check", "-x"}, "[/bin/check -x]"},
		{[]string{"CMD"}, "[]"},
	} {
		if got := fmt.Sprint(healthArgv(tc.test)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.test, got, tc.want)
		}
	}
}

func TestValidateHealthcheck(t *testing.T) {
	good := model.HealthConfig{Test: []string{"CMD-SHELL", "true"}, Interval: time.Second, Timeout: time.Second, Retries: 1}
	if err := ValidateHealthcheck(&good); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*model.HealthConfig){
		"negative interval":     func(h *model.HealthConfig) { h.Interval = -1 },
		"negative timeout":      func(h *model.HealthConfig) { h.Timeout = -1 },
		"negative start period": func(h *model.HealthConfig) { h.StartPeriod = -1 },
		"no retries":            func(h *model.HealthConfig) { h.Retries = 0 },
		"empty shell command":   func(h *model.HealthConfig) { h.Test = []string{"CMD-SHELL", " "} },
		"empty argv":            func(h *model.HealthConfig) { h.Test = []string{"CMD"} },
		"NONE":                  func(h *model.HealthConfig) { h.Test = []string{"NONE"} },
	} {
		h := good
		mut(&h)
		if err := ValidateHealthcheck(&h); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestImageHealthcheckDefaults(t *testing.T) {
	if imageHealthcheck(nil) != nil || imageHealthcheck(&image.HealthConfig{Test: []string{"NONE"}}) != nil {
		t.Fatal("no check wanted")
	}
	hc := imageHealthcheck(&image.HealthConfig{Test: []string{"CMD", "true"}, StartPeriod: time.Second})
	if hc.Interval != DefaultHealthInterval || hc.Timeout != DefaultHealthTimeout || hc.Retries != DefaultHealthRetries || hc.StartPeriod != time.Second {
		t.Fatalf("defaults: %+v", hc)
	}
}
