"""Build driver: pristine CPython 3.11.2 plus our change, as a python binary.

source  -- find the pinned release tarball in a cache or download it, verify it
tree    -- unpack it once as a baseline commit, then lay our change on top
export  -- write the change as one patch for upstream
"""
