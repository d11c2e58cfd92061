"""eegbin.nn"""
