#pragma once

namespace sluice {

/// The clock a timer or a window runs on: event time (the watermark) or processing time (the
/// wall clock).
enum class time_domain { event_time, processing_time };

} // namespace sluice
