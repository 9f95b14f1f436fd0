# The benchmark is not part of the test suite: it runs real containers for several minutes.
# Extra flags go through BENCH_ARGS, e.g. make bench BENCH_ARGS="-n 5 -levels 0,10,100,1000".
BENCH_ARGS ?=

.PHONY: bench
bench:
	go build -o /tmp/pea-bench-runner ./bench
	/tmp/pea-bench-runner $(BENCH_ARGS)
