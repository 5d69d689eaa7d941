#pragma once

/// The core of Sluice: the pipeline DSL, the runtime, the built-in operators, sources and sinks.

#include "sluice/config.hpp"
#include "sluice/context.hpp"
#include "sluice/error.hpp"
#include "sluice/operator.hpp"
#include "sluice/operators/collect.hpp"
#include "sluice/operators/file_sink.hpp"
#include "sluice/operators/from_collection.hpp"
#include "sluice/operators/generator.hpp"
#include "sluice/operators/print.hpp"
#include "sluice/operators/text_file.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/runtime.hpp"
#include "sluice/state.hpp"
#include "sluice/windows/continuous_event_time_trigger.hpp"
#include "sluice/windows/session_window.hpp"
#include "sluice/windows/sliding_window.hpp"
#include "sluice/windows/tumbling_window.hpp"
