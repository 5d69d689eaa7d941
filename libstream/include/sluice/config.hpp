#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice {

/// How keyed aggregations emit results (as Flink's runtime execution mode).
enum class execution_mode {
  automatic, ///< batch when every source is bounded, else streaming
  streaming, ///< every input record emits the updated aggregate
  batch,     ///< keyed aggregations emit one final result per key at end of stream
};

/// How the actor system's worker threads share the ready actors.
enum class scheduler_policy {
  /// A queue per worker: an actor a stage sends to runs next on the same worker, so a batch
  /// stays in that core's cache; an idle worker steals from busy ones, and sleeps when there is
  /// nothing to steal until it is handed work or a timer is due
  /// (`detail::parking_work_stealing`).
  work_stealing,
  /// CAF's one shared queue; an idle worker sleeps until work arrives, but batches move between
  /// cores at every hop.
  sharing,
};

/// Where keyed state lives.
enum class state_backend {
  memory, ///< hash maps in memory: fast, lost with the process
  lmdb,   ///< LMDB on disk behind an in-memory overlay; survives through checkpoints
};

/// Settings of a runtime; every field has a default that suits a laptop.
struct runtime_config {
  /// Records per batch: a batch is cut when it holds this many records.
  size_t batch_size = 1024;
  /// Credit granted per input channel at the start, in records.
  size_t input_buffer = 4096;
  /// The most credit an input channel's window grows to, in records: the most records queued
  /// at one input (never below `input_buffer`). An instance that has handled all its input
  /// while an upstream waits for credit doubles that channel's window, up to this (as TCP's
  /// receive window autotuning): a stage that emits several records for each it takes would
  /// otherwise fill its downstream's window in one step, and the two would take turns. Set it
  /// to `input_buffer` for fixed windows.
  size_t input_buffer_limit = 16384;
  /// How long a partly filled batch may wait for more records before it is sent.
  std::chrono::microseconds flush_delay{1000};
  /// Number of key groups, the unit of keyed state placement; fixed for the life of the state.
  uint32_t max_parallelism = 128;
  /// Parallelism of operators that do not set their own.
  uint32_t default_parallelism = 1;
  /// Worker threads of the actor system (0: one per core).
  size_t worker_threads = 0;
  scheduler_policy scheduler = scheduler_policy::work_stealing;
  execution_mode mode = execution_mode::automatic;
  /// The backend of keyed state.
  state_backend state = state_backend::lmdb;
  /// Where LMDB state lives: `<state_dir>/<pipeline>/<operator>-<instance>/`. Empty: a fresh
  /// temporary directory per runtime, removed with it (state then lasts one run).
  std::string state_dir;
  /// Time between checkpoints (from one's completion to the next one's trigger); 0: the job
  /// takes none. A job started with checkpoints over a state directory that holds a completed
  /// checkpoint of the pipeline restores every instance to it.
  std::chrono::milliseconds checkpoint_interval{0};
  /// With checkpoints of LMDB state, a failed instance restarts from the last checkpoint alone
  /// (docs/architecture.md, "Supervision and recovery"): instances log their input order and
  /// retain what they sent for it. False (as Flink without local recovery): none of that, and
  /// any failure fails the job.
  bool recovery = true;
  /// With recovery on, the most records an instance keeps of what it sent since the last
  /// completed checkpoint (for a downstream instance that restarts). Past it the job's sources
  /// pause and a checkpoint is taken at once, whose completion frees what came before it: the
  /// bound holds by backpressure and nothing is dropped. What is in flight when the sources
  /// pause still arrives, so an instance may pass the limit by what its upstream credit holds.
  uint64_t retention_limit = uint64_t{1} << 22;
  /// Entries per keyed state table an instance keeps in memory before dirty ones spill to
  /// LMDB; and timers per time domain whose time order it keeps in memory before the later
  /// ones spill.
  size_t state_overlay_entries = size_t{1} << 20;
  /// For tests (as Akka's `serialize-messages`): every message between instances is written
  /// with CAF's binary serializer and read back on the way, as if it crossed to another process.
  bool serialize_messages = false;
};

} // namespace sluice
