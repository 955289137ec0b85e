"""The stages (typed -> signless -> canonical -> flatbuffer) as xDSL module passes."""
