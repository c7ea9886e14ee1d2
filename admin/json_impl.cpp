// The one translation unit that compiles Boost.JSON (header-only mode), as support/ does for
// Asio: everything else includes only its headers.
#include <boost/json/src.hpp>
