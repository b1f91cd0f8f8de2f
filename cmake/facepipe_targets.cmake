# facepipe_add_library(NAME DIR [DEPS...])
# A static library from every .cpp (and, with CUDA, .cu) file under DIR. Files under a `cuda/`
# folder are only compiled when the CUDA backend is enabled, so a CPU-only build stays possible.
# Files under a `c_api/` folder belong to a separately built shared library and are left out.
function(facepipe_add_library name dir)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "/c_api/")
  if(FACEPIPE_HAVE_CUDA)
    file(GLOB_RECURSE cuda_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*.cu)
    list(APPEND sources ${cuda_sources})
  else()
    list(FILTER sources EXCLUDE REGEX "/cuda/")
  endif()
  if(sources)
    add_library(${name} STATIC ${sources})
    set(scope PUBLIC)
  else()  # a subsystem with headers only (so far)
    add_library(${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_include_directories(${name} ${scope} ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} ${scope} ${ARGN})
  if(FACEPIPE_HAVE_CUDA)
    target_compile_definitions(${name} ${scope} FACEPIPE_HAVE_CUDA=1)
    target_link_libraries(${name} ${scope} CUDA::cudart)
  endif()
endfunction()

# facepipe_add_test_folder(DIR LIBS...): one GoogleTest executable per folder of tests/, named
# <folder>_tests, with every *_test.cpp in it.
function(facepipe_add_test_folder dir)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*_test.cpp)
  if(NOT FACEPIPE_HAVE_CUDA)
    list(FILTER sources EXCLUDE REGEX "_cuda_test\\.cpp$")
  endif()
  if(NOT sources)
    return()
  endif()
  set(target ${dir}_tests)
  add_executable(${target} ${sources} ${CMAKE_CURRENT_SOURCE_DIR}/support/test_support.cpp
                           ${CMAKE_CURRENT_SOURCE_DIR}/support/allocation_counter.cpp)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PRIVATE ${ARGN} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${target} PRIVATE
    FACEPIPE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    FACEPIPE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${dir})
endfunction()
