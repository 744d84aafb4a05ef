# web_build.cmake -- builds the web app (web/ -> web/dist) for embedding:
# `npm ci` only when node_modules is missing or package-lock.json changed since
# the last install, then `npm run build`. Several build directories may share
# one web/ directory, so the steps run under a lock.
#   cmake -DWEB_DIR=... -DNPM=... -DSTAMP=... -P web_build.cmake
cmake_minimum_required(VERSION 3.20)

string(MD5 key "${WEB_DIR}")
file(LOCK "/tmp/loupe-web-build-${key}.lock" GUARD PROCESS TIMEOUT 1800 RESULT_VARIABLE lock_rc)
if(lock_rc)
  message(FATAL_ERROR "web build: cannot lock the web build (${lock_rc}); is another build stuck?")
endif()

set(need_ci FALSE)
if(NOT EXISTS "${WEB_DIR}/node_modules/.package-lock.json")
  set(need_ci TRUE)
elseif(EXISTS "${WEB_DIR}/package-lock.json" AND
       "${WEB_DIR}/package-lock.json" IS_NEWER_THAN "${WEB_DIR}/node_modules/.package-lock.json")
  set(need_ci TRUE)
endif()
if(need_ci)
  message(STATUS "web build: npm ci in ${WEB_DIR}")
  execute_process(COMMAND "${NPM}" ci --no-audit --no-fund WORKING_DIRECTORY "${WEB_DIR}" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "web build: `npm ci` failed in ${WEB_DIR} (exit ${rc}). Fix the web app's "
                        "dependencies, or configure with -DLOUPE_WEB=OFF to build loupe without the web app.")
  endif()
endif()
execute_process(COMMAND "${NPM}" run build WORKING_DIRECTORY "${WEB_DIR}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "web build: `npm run build` failed in ${WEB_DIR} (exit ${rc}). Fix the web app, "
                      "or configure with -DLOUPE_WEB=OFF to build loupe without it.")
endif()
file(TOUCH "${STAMP}")
