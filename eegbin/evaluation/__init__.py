"""eegbin.evaluation"""
