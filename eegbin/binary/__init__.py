"""eegbin.binary"""
