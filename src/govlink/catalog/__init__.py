"""The information resource catalog (政务信息资源目录)."""
