#pragma once

#include "nexmark/q0.hpp"
#include "nexmark/q1.hpp"
#include "nexmark/q10.hpp"
#include "nexmark/q11.hpp"
#include "nexmark/q12.hpp"
#include "nexmark/q13.hpp"
#include "nexmark/q14.hpp"
#include "nexmark/q2.hpp"
#include "nexmark/q3.hpp"
#include "nexmark/q4.hpp"
#include "nexmark/q5.hpp"
#include "nexmark/q6.hpp"
#include "nexmark/q7.hpp"
#include "nexmark/q8.hpp"
#include "nexmark/q9.hpp"
#include "nexmark/result_lines.hpp"

// All the Nexmark queries, and their results as lines: what the tests' reference implementation
// checks them against. A program builds one query at a time (nexmark/build_query.hpp).
