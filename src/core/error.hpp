// src/core/error.hpp: the one exception type the core throws for user-visible failures.
#pragma once

#include <stdexcept>
#include <string>

namespace audit_chain::core {

// One code per kind of failure a user can see; the glue maps each to a SQLSTATE
// (src/pg/boundary.cpp), so this list is the core half of the error contract.
enum class ErrorCode {
	kInvalidParameter,   // bad argument value (22023)
	kInvalidText,        // malformed input text, e.g. a digest or hex string (22P02)
	kDataCorrupted,      // stored audit data cannot be decoded (XX001)
	kInternal,           // a broken invariant (XX000)
};

class Error : public std::runtime_error {
public:
	Error(ErrorCode code, const std::string &message, std::string detail = {}, std::string hint = {})
		: std::runtime_error(message), code_(code), detail_(std::move(detail)), hint_(std::move(hint))
	{
	}

	ErrorCode code() const noexcept { return code_; }
	const std::string &detail() const noexcept { return detail_; }
	const std::string &hint() const noexcept { return hint_; }

private:
	ErrorCode code_;
	std::string detail_;
	std::string hint_;
};

}  // namespace audit_chain::core
