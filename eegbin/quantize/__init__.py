"""eegbin.quantize"""
