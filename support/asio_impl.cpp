// The one translation unit that compiles Asio (BOOST_ASIO_SEPARATE_COMPILATION): every other
// file includes only Asio's headers, which saves minutes of build time on two cores.
#include <boost/asio/impl/src.hpp>
