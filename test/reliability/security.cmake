# Security (issue 8, items 10-12; test/reliability/security.sh): awf_security_auth_check runs the
# bridge's credential check (bridge/auth.cpp) against a real database, with crypt_r interposed to
# see which secret is hashed against which setting: an unknown client id or API key still costs a
# full hash of the presented secret, with the cost of a real one.
add_executable(awf_security_auth_check test/reliability/security_auth_check.cpp bridge/auth.cpp)
target_include_directories(awf_security_auth_check PRIVATE bridge)
target_link_libraries(awf_security_auth_check PRIVATE PkgConfig::PQXX OpenSSL::Crypto crypt ${CMAKE_DL_LIBS}
                      Threads::Threads)
