"""The synthetic district: a seeded, realistic 杭州市西湖区 for ``govlink demo``, tests and benchmarks.

``generate_district`` (in :mod:`govlink.demo.generator`) writes the true population and enterprises,
messy department extracts in the formats departments really hand over, and the ground truth that
says which true person or enterprise each extract row mentions.
"""
