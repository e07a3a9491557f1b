-- Prints the figures of a run as one JSON line that the harness reads.
-- wrk counts a response with a status of 400 or more as a status error;
-- latencies are in microseconds.
function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"connect_errors":%d,' ..
      '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d}\n',
      summary.requests, summary.duration, errors.connect, errors.read,
      errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(90),
      latency:percentile(99)))
end
