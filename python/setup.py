"""pip install ./python --no-build-isolation: the descent package, built by CMake.

The extension (descent._core) is built by the project's own CMake build, as
`cmake --build` would build it, then copied into the wheel beside the
pure-Python modules. Nothing is fetched: CMake, a C++20 compiler and the
Debian packages of scripts/deps.sh (Eigen, fmt, pybind11, ...) must be
installed, and setuptools comes from Debian (python3-setuptools), which is
why --no-build-isolation is needed.

Environment:
  DESCENT_BUILD_DIR  an existing, configured build tree to build the
                     extension in instead of a fresh one: absolute, or
                     relative to the source tree (build/release)
  DESCENT_NATIVE=1   tune the fresh build for this machine (-march=native);
                     the default is portable
  CMAKE_BUILD_PARALLEL_LEVEL  build jobs (CMake's own variable)
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(descent VERSION ([0-9.]+)", text).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        given = os.environ.get("DESCENT_BUILD_DIR")
        build = (ROOT / given).resolve() if given else pathlib.Path(self.build_temp).resolve() / "cmake"
        if not given:
            subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                            "-DDESCENT_BUILD_TESTS=OFF", "-DDESCENT_BUILD_CLI=OFF", "-DDESCENT_BUILD_PYTHON=ON",
                            f"-DDESCENT_NATIVE={'ON' if os.environ.get('DESCENT_NATIVE') == '1' else 'OFF'}",
                            f"-DPYTHON_EXECUTABLE={sys.executable}"], check=True)
        elif not (build / "CMakeCache.txt").exists():
            sys.exit(f"DESCENT_BUILD_DIR={given} is not a configured CMake build tree")
        subprocess.run(["cmake", "--build", str(build), "--target", "descent_python"], check=True)
        built = sorted((build / "python" / "descent").glob("_core*.so"))
        if not built:
            sys.exit(f"the build in {build} made no descent/_core extension (is pybind11-dev installed?)")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    name="descent",
    version=version(),
    description="Gradient-based optimization and model training: scipy.optimize and torch.optim drop-ins",
    packages=["descent", "descent.optim"],
    package_dir={"": str(HERE.relative_to(pathlib.Path.cwd())) if HERE != pathlib.Path.cwd() else "."},
    ext_modules=[Extension("descent._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    install_requires=["numpy"],
    zip_safe=False,
)
