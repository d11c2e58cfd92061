"""eegbin.features"""
