// sluice_wordcount_job (a separate process) with its state on a tmpfs that its keyed state
// fills, then restarted on the same tmpfs made larger, against an uninterrupted run
//
//   text file -> flat_map -> key_by -> count -> file      state: tmpfs, output: ordinary disk

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/checkpoint_record.hpp"

#include "support/build_paths.hpp"
#include "support/output_fingerprint.hpp"
#include "support/test_support.hpp"

using namespace std::chrono_literals;

namespace {

/// Runs `argv` as a child process in a process group of its own (so that a deadline can end it
/// and everything it started), with stdout and stderr going to the file `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    if (!std::freopen(log.c_str(), "w", stdout) || dup2(fileno(stdout), STDERR_FILENO) < 0)
      _exit(126);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

/// Waits up to `timeout` for `pid`: its exit status, or -signal if a signal ended it. When the
/// deadline passes, kills its process group and returns nothing.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  if (!sluice::test::eventually([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout)) {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    return std::nullopt;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The exit status a script recorded in `path`, or -1000 if it recorded none (it never got
/// there).
int recorded_status(const std::string& path) {
  int status = -1000;
  std::ifstream{path} >> status;
  return status;
}

std::string regex_escape(const std::string& text) {
  static const std::regex special{R"([.^$|()\[\]{}*+?\\])"};
  return std::regex_replace(text, special, R"(\$&)");
}

/// What runs in a private mount namespace, so that the tmpfs is this test's alone and vanishes
/// with it: `sh -c script sh <job> <input> <disk> <out>`. It mounts a tmpfs on `disk` (then
/// creates `out/mounted`) and runs the job with its state there. Once the job completed a
/// checkpoint, it shrinks the tmpfs to what it holds plus 100 KiB, which the state the job
/// writes next outgrows (waiting for that checkpoint makes sure the restart below restores
/// state this run built; a tmpfs small from the start may already be full at the first one).
/// Then it makes the tmpfs large and runs the job again over the same state. The exit status,
/// stderr and checkpoint record of each run go to `out`; so does the output.
constexpr const char* namespace_script = R"(
job=$1 input=$2 disk=$3 out=$4
mount -t tmpfs -o size=64m sluice-full-disk "$disk" || exit
: > "$out/mounted"
record="$disk/state/wordcount/checkpoints"
"$job" "$input" "$out/output.txt" "$disk/state" 2> "$out/full.stderr" &
pid=$!
until grep -qs '^completed [1-9]' "$record"; do
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.01
done
for attempt in 1 2 3 4 5; do
  used=$(df -Pk "$disk" | awk 'NR == 2 { print $3 }')
  mount -o remount,size=$((used + 100))k "$disk" && : > "$out/shrunk" && break
done
wait "$pid"
echo $? > "$out/full.status"
cp "$record" "$out/full.record"
mount -o remount,size=512m "$disk" || exit
"$job" "$input" "$out/output.txt" "$disk/state" 2> "$out/restored.stderr"
echo $? > "$out/restored.status"
cp "$record" "$out/restored.record"
)";

} // namespace

TEST_CASE("a job that fills its state disk fails naming path and operator and loses no state") {
  // Every line has a word of a small vocabulary, four new words and one seen half the input
  // before, so the state keeps growing and counts go on across checkpoints.
  constexpr int input_lines = 24'000;
  sluice::test::temp_dir input_dir;
  auto input = input_dir.file("words.txt");
  {
    std::ofstream file{input};
    for (int i = 0; i < input_lines; ++i)
      file << "c" << i % 64 << " d" << 4 * i << " d" << 4 * i + 1 << " d" << 4 * i + 2 << " d"
           << 4 * i + 3 << " d" << 2 * i << '\n';
  }

  sluice::test::temp_dir dir;
  auto disk = dir.file("disk");
  auto out = dir.file("out");
  std::filesystem::create_directories(disk);
  std::filesystem::create_directories(out);
  auto namespace_log = dir.file("namespace.log");
  auto status = wait_for(spawn({"unshare", "--mount", "sh", "-c", namespace_script, "sh",
                                sluice::test::wordcount_job(), input, disk, out},
                               namespace_log),
                         120s);
  if (!std::filesystem::exists(out + "/mounted")) {
    sluice::test::skip(
      "cannot mount a tmpfs in a private mount namespace (this needs root and "
      "unshare from util-linux); exit status "
      + (status ? std::to_string(*status) : std::string{"none"})
      + ", output: " + read_file(namespace_log));
    return;
  }
  INFO("output of unshare and the script:\n" << read_file(namespace_log));
  REQUIRE(status.has_value()); // no hang, in either run

  // The job that filled the disk stopped with exit status 1 (not a signal or a sanitizer's
  // report) and an error naming the operator instance and its state directory on the tmpfs.
  // The first write to fail is a state write of an instance; should a checkpoint fill the disk
  // to the last byte, it is the coordinator's record of that checkpoint, naming its own path.
  // The instance's supervisor restarts it until it gives up: its error ends in the last
  // failure.
  CHECK(std::filesystem::exists(out + "/shrunk"));
  auto full_stderr = read_file(out + "/full.stderr");
  INFO("stderr of the job that filled the disk:\n" << full_stderr);
  CHECK(recorded_status(out + "/full.status") == 1);
  auto state = regex_escape(disk + "/state/wordcount/");
  CHECK_THAT(full_stderr,
             Catch::Matches("(gave_up: operator '[^']+' gave up after more than 5 restarts "
                            "within 60000 ms; last failure: )?"
                            "state: operator '([^']+)' \\(instance ([0-9]+) of [0-9]+\\) "
                            "in pipeline 'wordcount' failed: .*keyed state in "
                            + state + "\\2-\\3: .*: No space left on device\n")
               || Catch::Matches("io: checkpoint coordinator: checkpoint record " + state
                                 + "checkpoints: .*: No space left on device\n"));

  // It had completed a checkpoint, so the restart restores state it built. The checkpoint ids
  // go on from there: the state directory was used, not started afresh.
  auto failed = sluice::checkpoint_record::load(out + "/full.record");
  REQUIRE(failed.completed >= 1);
  CHECK(recorded_status(out + "/restored.status") == 0);
  CHECK(read_file(out + "/restored.stderr").empty());
  CHECK(sluice::checkpoint_record::load(out + "/restored.record").completed > failed.triggered);

  // No count is lost or repeated: the output is that of an uninterrupted run on an ordinary
  // disk.
  sluice::test::temp_dir reference;
  auto reference_status = wait_for(spawn({sluice::test::wordcount_job(), input,
                                          reference.file("out.txt"), reference.file("state")},
                                         reference.file("log")),
                                   120s);
  REQUIRE(reference_status.has_value());
  REQUIRE(*reference_status == 0);
  auto expected = sluice::test::output_fingerprint(reference.file("out.txt"));
  REQUIRE(expected.lines == input_lines * 6);
  CHECK(sluice::test::output_fingerprint(out + "/output.txt") == expected);
}
