//go:build pea_nocollector

package main

// scripts/build.sh links pea with GODEBUG's sbrk=1 as the binary's default (the pea_nocollector
// tag builds this file alongside): short commands run without the garbage collector, and this
// constructor, before the Go runtime starts, executes the binary again with the collector for
// the commands that need it. See internal/collector.

/*
void pea_collector_start(void); // internal/collector (classify.c)

__attribute__((constructor(102))) static void pea_collector(void) { pea_collector_start(); }
*/
import "C"
